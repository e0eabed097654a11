// The records `qtrip report` reads from an ftrace text buffer: plain typed data,
// made by parse.ts, read by analyse.ts.

/** Nanoseconds on the trace clock (the buffer's own timestamps, which are seconds with 6 or 9 decimals). */
export type Ns = number;

interface Common {
  /** 1-based line in the input, for messages. */
  line: number;
  /** The task that was current when the event fired. */
  comm: string;
  tid: number;
  cpu: number;
  t: Ns;
}

export type TraceEvent =
  | (Common & { kind: "kvm_entry"; vcpu?: number })
  | (Common & { kind: "kvm_exit"; reason: string })
  | (Common & { kind: "kvm_userspace_exit"; reason: string })
  | (Common & { kind: "sched_switch"; prevComm: string; prevTid: number; prevPrio: number; prevState: string; nextComm: string; nextTid: number; nextPrio: number })
  | (Common & { kind: "sched_wakeup"; wakeComm: string; wakeTid: number; prio: number; targetCpu: number })
  | (Common & { kind: "sched_migrate_task"; taskComm: string; taskTid: number; prio: number; origCpu: number; destCpu: number })
  | (Common & { kind: "irq_entry"; irq: string; name: string })
  | (Common & { kind: "irq_exit"; irq: string })
  | (Common & { kind: "softirq_entry"; vec: string; name: string })
  | (Common & { kind: "softirq_exit"; vec: string })
  | (Common & { kind: "stack"; frames: string[] })
  /** Any other event (kvm_pio, kvm_msr, …): kept with its name and text for the evidence. */
  | (Common & { kind: "other"; name: string; text: string });

export interface ParsedTrace {
  events: TraceEvent[];
  /** `entries-in-buffer/entries-written` from the header, when the file has it (a `trace` file does). */
  entries?: { inBuffer: number; written: number };
  /** How many lines the file had. */
  lines: number;
}

/** Capture metadata, as the host's freeze writes it to meta.json (or given on the command line). */
export interface CaptureMeta {
  case?: string;
  title?: string;
  vmmPid?: number;
  vcpuThreads?: { tid: number; comm: string }[];
  hostKernel?: string;
  traceClock?: string;
  /** The trip's time on the trace clock. */
  tripTime: Ns;
  tripTid?: number;
  thresholdNs?: number;
  channel?: string | { port: number; value: number };
  /** The capture has no channel write record (overwritten): the window ends at the buffer's last record instead. */
  tripMissing?: boolean;
  bufferKb?: number;
  capturedAt?: string;
}
