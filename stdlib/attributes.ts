// The filter attributes (`on pid 1234 and comm "qemu-kvm"`): the one table of
// what each is, what values it takes and how `explain` words it. The checker,
// the limits, the planner and `explain` read it; a backend reads each attribute
// of an event's subject through its own lowering table, which must cover every
// attribute the subject has (a missing one is a type error there).

export interface AttributeInfo {
  type: "int" | "string";
  /** ints: the largest value. */
  max?: bigint;
  /** strings: the longest value, in bytes. */
  maxBytes?: number;
  /** strings: the only values it takes, each with what it means; they are written in the rule (no `$param`). */
  values?: Record<string, string>;
  /** For `explain`: "only for <words> 1234". */
  words: string;
  /** What it is, for `qtrip sources` and the reference. */
  doc: string;
}

/** In the reference's order. */
export const ATTRIBUTES = {
  pid: { type: "int", max: 4_194_304n, words: "process", doc: "process id (thread group id)" }, // PID_MAX_LIMIT on 64-bit
  tid: { type: "int", max: 4_194_304n, words: "thread", doc: "thread id" },
  comm: { type: "string", maxBytes: 15, words: "task named", doc: "task name (TASK_COMM_LEN 16 with its NUL)" },
  uid: { type: "int", max: 4_294_967_294n, words: "user id", doc: "real user id" }, // (uid_t)-1 is "no user"
  cpu: { type: "int", max: 8_191n, words: "CPU", doc: "CPU number" }, // NR_CPUS is at most 8192 on x86_64
  device: { type: "string", maxBytes: 127, words: "device", doc: "disk or network device name, e.g. vda, eth0 (a SystemTap string holds 127 bytes)" },
  local_port: { type: "int", max: 65_535n, words: "local port", doc: "the guest's own TCP port of the connection" },
  remote_port: { type: "int", max: 65_535n, words: "remote port", doc: "the TCP port of the guest's peer" },
  context: {
    type: "string",
    values: {
      kernel: "the kernel logged it on its own: from a kernel thread or an interrupt, where no user task chose its words",
      user: "the kernel logged it while working for a user task (its system call, its fault), or a root process wrote it to /dev/kmsg",
    },
    words: "lines logged in the context",
    doc: 'where a kernel log line was logged: "kernel" (a kernel thread or an interrupt) or "user" (a user task\'s system call or fault)',
  },
} as const satisfies Record<string, AttributeInfo>;

export type Attribute = keyof typeof ATTRIBUTES;

export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES) as Attribute[];

/** Whose attributes an event offers: the filters of a condition are those of its subject. */
export const SUBJECTS = {
  /** The task running when the event happens. */
  "current task": ["pid", "tid", "comm", "uid", "cpu"],
  /** The task running when a kernel log line is logged, and the context it is logged in. */
  "logging task": ["pid", "tid", "comm", "uid", "cpu", "context"],
  /** The task the hung-task detector reports (not khungtaskd, which reports it). */
  "hung task": ["pid", "tid", "comm", "uid", "cpu"],
  /** A block request, with the task that issued it and its disk. */
  "block request": ["pid", "tid", "comm", "uid", "cpu", "device"],
  /** The task that is woken. */
  "woken task": ["pid", "tid", "comm", "uid", "cpu"],
  /** The task that gets a CPU. */
  "task getting the CPU": ["pid", "tid", "comm", "uid", "cpu"],
  /** The task that leaves its CPU. */
  "task leaving the CPU": ["pid", "tid", "comm", "uid", "cpu"],
  /** The task the OOM killer kills (not the one whose allocation failed). */
  "OOM victim": ["pid", "tid", "comm", "uid", "cpu"],
  /** The task a signal is sent to. */
  "receiving task": ["pid", "tid", "comm", "uid", "cpu"],
  /** A TCP connection of the guest, its own end local, its peer's remote (the task running then is often none of its). */
  "TCP connection": ["cpu", "local_port", "remote_port"],
  /** A network device, by its name (the task running then is often none of its). */
  "network device": ["cpu", "device"],
  /** A CPU, whatever it runs. */
  cpu: ["cpu"],
} as const satisfies Record<string, readonly Attribute[]>;

export type Subject = keyof typeof SUBJECTS;
