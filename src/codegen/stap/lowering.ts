// The lowering of every guest event to SystemTap probe points, for a range of
// kernels: what to probe, what the event identifies, how to read its subject's
// filter attributes, and the values its tests read. The one table a new event
// (and so most new conditions) adds a row to; kernel-version differences live
// here too.
import { EVENTS, RCU_STALL_LINE, SUBJECTS, WATCHDOG_LINE, type EventName, type GuestEvent, type KernelEvent } from "../../../stdlib/index.js";
import type { Fragment } from "./fragment.js";
import { changedIn, sinceKernel, type KernelRange } from "./kernel.js";
import { LOGGED_LINE, LOGGED_LINE_BEFORE_5_19, loggedFromKernel, loggedLine, moduleSymbols, oldKprobeRuntime } from "./fragments/kernel-facts.js";
import { ANY_MODULE, functionPlaces } from "./fragments/function-places.js";
import { tcpPorts, watchdogDevice } from "./fragments/network.js";
import { lowerSelection } from "./selections.js";
import { stapString } from "./syntax.js";

type SubjectOf<E extends EventName> = (typeof EVENTS)[E]["subject"];
type AttributesOf<E extends EventName> = (typeof SUBJECTS)[SubjectOf<E>][number];

/** Values an event offers to the tests conditions make there. */
export interface EventValues {
  /** The system call's x86_64 number. */
  syscall?: string;
  /** The system call's result (negative errno on failure). */
  result?: string;
  /** The log line: its text's address and its length (not NUL-terminated). */
  line?: { text: string; length: string };
  /** The signal's number, and whether it was queued (0). */
  signal?: { number: string; result: string };
  /** How late the timer runs: ns after its hard expiry time (negative: early, within its slack). */
  lateness?: string;
  /** The network device's struct net_device. */
  netDevice?: string;
}

export interface EventLowering<E extends EventName> {
  /** Probe points, joined as one handler: they offer the same context variables. */
  probes: (event: GuestEvent, kernel: KernelRange) => string[];
  /** The expression of what the event identifies (its key in an in-flight table). */
  key?: string;
  /** A test that must hold for the event to count at all. */
  guard?: (kernel: KernelRange) => string;
  /** How to read each attribute of the event's subject. */
  reads: (kernel: KernelRange) => Record<AttributesOf<E>, string>;
  values?: EventValues;
  /** A call's entry, timed to a return probe that may find no free instance: its start records the call's frame (fragments/return-probes.ts). */
  returnProbed?: boolean;
  /** Fragments the probes need. */
  fragments?: (event: GuestEvent) => Fragment[];
  /** Fragments an attribute's read needs, when a rule filters on it. */
  readFragments?: Partial<Record<AttributesOf<E>, Fragment[]>>;
  /** Where these probes work, for `qtrip sources`. */
  kernels: string;
}

/** The task running when the probe fires. */
const CURRENT = () => ({ pid: "pid()", tid: "tid()", comm: "execname()", uid: "uid()", cpu: "cpu()" });

/** A task the event is about, through its task_struct. */
function taskAt(task: string) {
  return () => ({ pid: `${task}->tgid`, tid: `${task}->pid`, comm: `kernel_string(${task}->comm)`, uid: `task_uid(${task})`, cpu: `task_cpu(${task})` });
}

/** A block request's disk (rq->q->disk since 5.17, rq->rq_disk before), with the task running then. */
function BLOCK_REQUEST(kernel: KernelRange) {
  return { ...CURRENT(), device: `kernel_string(${changedIn(kernel, "5.17", "$rq->rq_disk", "$rq->q->disk")}->disk_name)` };
}

/** The OOM victim: $task where the tracepoint gives it, else the task of its thread id $pid (alive: the OOM killer holds its task lock). */
function OOM_VICTIM() {
  const victim = "@choose_defined($task, pid2task($pid))";
  return { pid: `task_pid(${victim})`, tid: `task_tid(${victim})`, comm: `task_execname(${victim})`, uid: `task_uid(${victim})`, cpu: `task_cpu(${victim})` };
}

const trace = (name: string) => () => [`kernel.trace(${stapString(name)})`];

/** A line's context as the `context` filter reads it: "kernel" (a kernel thread or an interrupt) or "user". */
const LOGGING_TASK = () => ({ ...CURRENT(), context: '(qt_logged_from_kernel() ? "kernel" : "user")' });

/**
 * RCU's stall report: the rcu:rcu_stall_warning tracepoint since 5.13 (normal, self-detected and
 * expedited stalls); before, its line as RCU logs it (RCU_STALL_LINE), through the kprobe form of
 * the log probe (printk:console misses lines the consoles do not print before 5.19).
 */
const RCU_STALL_TRACEPOINT_SINCE = "5.13";
function rcuStallLine() {
  const line = { text: LOGGED_LINE_BEFORE_5_19.text, length: LOGGED_LINE_BEFORE_5_19.length };
  const tests = RCU_STALL_LINE.map((s) => lowerSelection(s, { line }, 0));
  return { test: [LOGGED_LINE_BEFORE_5_19.guard, ...tests.map((t) => t.test)].join(" && "), fragments: [loggedLine, ...tests.flatMap((t) => t.fragments)] };
}

/**
 * A rule's function: "MODULE:NAME" in that module (built in, in the kernel image); a plain NAME in the
 * image when the build's symbol table has it (`!`: the first alternative that resolves), else wherever
 * the running kernel has it. fragments/function-places.ts resolves both as the probes register.
 */
function functionProbe(symbol: string): string {
  const at = (module: string, name: string) => `kprobe.module(${stapString(module)}).function(${stapString(name)})`;
  if (!symbol.includes(":")) return `kprobe.function(${stapString(symbol)}) !, ${at(ANY_MODULE, symbol)}`;
  const [module, name] = symbol.split(":");
  // The kernel names a module with '_' where its file has '-' (virtio-blk.ko is virtio_blk).
  return at(module.replaceAll("-", "_"), name);
}

/** SystemTap's walk removed, the kernel resolves the names functionPlaces gives it. */
const FUNCTION_FRAGMENTS = [moduleSymbols, functionPlaces];

/** A kernel function's entry: `!` takes the first name that this kernel has. */
const entered = (...functions: string[]) => [functions.map((f) => `kprobe.function(${stapString(f)})`).join(" !, ")];

/** The reclaim tracepoints' pairs (vmscan:mm_vmscan_NAME_reclaim_begin/_end) a task's own reclaim runs between. */
const RECLAIM = ["direct", "memcg"];
/** The entry point of direct compaction, with mm_compaction_try_to_compact_pages inside. */
const COMPACTION = "try_to_compact_pages";
const RECLAIM_KERNELS =
  "vmscan:mm_vmscan_direct_reclaim_begin/_end and mm_vmscan_memcg_reclaim_begin/_end since 2.6.36 (CONFIG_MEMCG for the second pair); try_to_compact_pages() since 2.6.35 (CONFIG_COMPACTION)";

/**
 * A TCP connection at the tcp tracepoints: $sk, and, for a reset sent for no socket (6.10+,
 * where the argument is skb__nullable), the segment it answers ($sk is NULL then).
 */
function TCP_CONNECTION() {
  const skb = "@choose_defined($skb, @choose_defined($skb__nullable, 0))";
  return { cpu: "cpu()", local_port: `qt_tcp_port($sk, ${skb}, 1)`, remote_port: `qt_tcp_port($sk, ${skb}, 0)` };
}
const TCP_PORTS = { local_port: [tcpPorts], remote_port: [tcpPorts] };

/** A network device's name ($dev: a struct net_device). */
const NETWORK_DEVICE = () => ({ cpu: "cpu()", device: "kernel_string($dev->name)" });

/**
 * The transmit watchdog: net:net_dev_xmit_timeout since 5.6; before, the line dev_watchdog() logs
 * once a boot (WARN_ONCE) from its timer, "NETDEV WATCHDOG: NAME (DRIVER): transmit queue N timed
 * out", through the kprobe form of the log probe, the device's name read from the line.
 */
const WATCHDOG_TRACEPOINT_SINCE = "5.6";
function watchdogLine() {
  const line = { text: LOGGED_LINE_BEFORE_5_19.text, length: LOGGED_LINE_BEFORE_5_19.length };
  const tests = WATCHDOG_LINE.map((s) => lowerSelection(s, { line }, 0));
  return {
    test: [LOGGED_LINE_BEFORE_5_19.guard, ...tests.map((t) => t.test)].join(" && "),
    // Read before the guard (filters come first): the line is formatted here for the read.
    device: `(${LOGGED_LINE_BEFORE_5_19.guard} ? qt_watchdog_device(${line.text}, ${line.length}) : "")`,
    fragments: [loggedLine, watchdogDevice, ...tests.flatMap((t) => t.fragments)],
  };
}

const KERNEL_EVENT_PROBES: Partial<Record<KernelEvent, string[]>> = {
  // The request for all CPUs' backtraces (sysrq-l, hung task and RCU stall reports); older kernels lack the cpumask variant.
  nmi_backtrace: entered("nmi_trigger_cpumask_backtrace", "nmi_cpu_backtrace"),
  warn: entered("__warn"),
  oops: entered("oops_enter"),
  panic: entered("panic", "vpanic"),
};

export const LOWERING: { [E in EventName]: EventLowering<E> } = {
  "syscall-enter": { probes: trace("raw_syscalls:sys_enter"), key: "tid()", reads: CURRENT, values: { syscall: "$id" }, kernels: "3.7+" },
  "syscall-exit": {
    probes: trace("raw_syscalls:sys_exit"),
    key: "tid()",
    reads: CURRENT,
    // sys_exit's $ret is the result; the call's number is orig_ax.
    values: { syscall: "$regs->orig_ax", result: "$ret" },
    kernels: "3.7+",
  },
  "thread-exit": { probes: trace("sched:sched_process_exit"), key: "tid()", reads: CURRENT, kernels: "any" },
  // $p is the thread, already under the leader's pid; $old_pid, its own thread id until now.
  "thread-execs": { probes: trace("sched:sched_process_exec"), key: "$old_pid", guard: () => "$old_pid != $p->pid", reads: CURRENT, kernels: "3.4+" },
  "block-issue": {
    probes: trace("block:block_rq_issue"),
    key: "$rq",
    reads: BLOCK_REQUEST,
    kernels: "block_rq_issue lost its request_queue argument in 5.11; the disk is rq->q->disk since 5.17",
  },
  "block-complete": { probes: trace("block:block_rq_complete"), key: "$rq", reads: BLOCK_REQUEST, kernels: "any" },
  "block-requeue": { probes: trace("block:block_rq_requeue"), key: "$rq", reads: BLOCK_REQUEST, kernels: "any" },
  "task-woken": {
    probes: () => [`kernel.trace("sched:sched_wakeup")`, `kernel.trace("sched:sched_wakeup_new")`],
    key: "$p->pid",
    // Not the idle task; and not on a CPU: a task woken before it slept (an interrupt waking
    // current, ttwu_runnable() from another CPU) never left its CPU and waits for none.
    guard: () => "$p->pid != 0 && @choose_defined($p->on_cpu, 0) == 0",
    reads: taskAt("$p"),
    kernels: "2.6.32+",
  },
  "task-switched-in": { probes: trace("sched:sched_switch"), key: "$next->pid", reads: taskAt("$next"), kernels: "sched_switch gained an argument in 5.18 ($next is in every version)" },
  "task-switched-out": { probes: trace("sched:sched_switch"), key: "$prev->pid", reads: taskAt("$prev"), kernels: "sched_switch gained an argument in 5.18 ($prev is in every version)" },
  "task-blocks": {
    probes: trace("sched:sched_switch"),
    key: "$prev->pid",
    // Not preempted, and in D state as ps shows it: TASK_UNINTERRUPTIBLE (0x2) without TASK_NOLOAD (0x400, idle
    // kernel threads). The task's state as it is now (prev->__state since 5.14, prev->state before), not
    // sched_switch's prev_state argument (5.18+): that is what __schedule() read before signal_pending_state(),
    // so a killable sleeper with SIGKILL pending shows D there while __schedule() made it TASK_RUNNING and
    // left it on the run queue. (Not prev->on_rq: 6.12's delayed dequeue leaves sleepers queued.) A waker on
    // another CPU may already have made it TASK_WAKING: its sleep is over then.
    guard: (kernel) => `!$preempt && (${changedIn(kernel, "5.14", "$prev->state", "$prev->__state")} & 0x402) == 0x2`,
    reads: taskAt("$prev"),
    kernels: "4.4+ (sched_switch's preempt argument); the task's state is prev->__state since 5.14",
  },
  // Direct reclaim: the page allocator's (try_to_free_pages) and a memory cgroup's at its limit
  // (try_to_free_mem_cgroup_pages), each between its begin and end tracepoints; neither nests in the
  // other (both reclaim with PF_MEMALLOC set). Not the memcg soft-limit pair: cgroup v1's, run inside
  // direct reclaim and kswapd, its end would end the outer timing. Direct compaction has a tracepoint
  // at its start only: try_to_compact_pages() is timed from its entry to its return probe (a global
  // function of compaction.c, called from page_alloc.c: never inlined without LTO, which Debian does not use).
  "reclaim-begins": {
    probes: () => [...RECLAIM.map((r) => `kernel.trace("vmscan:mm_vmscan_${r}_reclaim_begin")`), `kprobe.function(${stapString(COMPACTION)})`],
    key: "tid()",
    reads: CURRENT,
    returnProbed: true,
    fragments: () => [oldKprobeRuntime],
    kernels: RECLAIM_KERNELS,
  },
  "reclaim-ends": {
    probes: () => [...RECLAIM.map((r) => `kernel.trace("vmscan:mm_vmscan_${r}_reclaim_end")`), `kprobe.function(${stapString(COMPACTION)}).return.maxactive(1024)`],
    key: "tid()",
    reads: CURRENT,
    fragments: () => [oldKprobeRuntime],
    kernels: RECLAIM_KERNELS,
  },
  "function-entry": { probes: (e) => [functionProbe(e.symbol!)], key: "tid()", reads: CURRENT, returnProbed: true, fragments: () => FUNCTION_FRAGMENTS, kernels: "any" },
  "function-return": {
    // Enough return-probe instances for most concurrent calls; a call that finds none is not timed, and said (fragments/return-probes.ts).
    probes: (e) => [
      functionProbe(e.symbol!)
        .split(" !, ")
        .map((p) => `${p}.return.maxactive(1024)`)
        .join(" !, "),
    ],
    key: "tid()",
    reads: CURRENT,
    fragments: () => FUNCTION_FRAGMENTS,
    kernels: "any",
  },
  // The victim's task since Linux 6.8 (and Debian's 6.1); before, only its thread id.
  "oom-victim": { probes: trace("oom:mark_victim"), reads: OOM_VICTIM, kernels: "mark_victim exists since 4.8; it gives the victim's task_struct since 6.8 (Debian 6.1 has it), only its pid before" },
  // printk:console since 5.19; before, it misses the lines the consoles do not print: a kprobe where lines enter (kernel-facts.ts).
  "console-line": {
    probes: () => [LOGGED_LINE.probe],
    guard: () => LOGGED_LINE.guard,
    reads: LOGGING_TASK,
    values: { line: { text: LOGGED_LINE.text, length: LOGGED_LINE.length } },
    fragments: () => [loggedLine],
    readFragments: { context: [loggedFromKernel] },
    kernels: "printk:console on 5.19+; a kprobe on vprintk_emit before (the tracepoint there sees only the lines the consoles print)",
  },
  // khungtaskd fires it for the hung task ($tsk), before it prints the task's report.
  "task-hung": { probes: trace("sched:sched_process_hang"), reads: taskAt("$tsk"), kernels: "3.14+ (CONFIG_DETECT_HUNG_TASK)" },
  "rcu-stall": {
    probes: () => [sinceKernel(RCU_STALL_TRACEPOINT_SINCE, 'kernel.trace("rcu:rcu_stall_warning")', LOGGED_LINE_BEFORE_5_19.probe)],
    guard: () => sinceKernel(RCU_STALL_TRACEPOINT_SINCE, "1", rcuStallLine().test),
    reads: CURRENT,
    fragments: () => rcuStallLine().fragments,
    kernels: "rcu:rcu_stall_warning since 5.13; before, RCU's stall line logged from its timer interrupt or kernel threads (a kprobe on vprintk_emit)",
  },
  "kernel-event": {
    probes: (e) => {
      const probes = KERNEL_EVENT_PROBES[e.kernelEvent!];
      if (!probes) throw new Error(`no probe point for kernel event ${e.kernelEvent}`);
      return probes;
    },
    reads: CURRENT,
    fragments: (e) => (KERNEL_EVENT_PROBES[e.kernelEvent!]?.some((p) => p.startsWith("kprobe.")) ? [oldKprobeRuntime] : []),
    kernels: "the functions' names vary: the first that exists is probed; mark_victim exists since 4.8",
  },
  // The signal as sent, with its receiver ($task); $result 0: queued for delivery.
  "signal-sent": {
    probes: trace("signal:signal_generate"),
    reads: taskAt("$task"),
    values: { signal: { number: "$sig", result: "$result" } },
    kernels: "2.6.31+",
  },
  // $sk may be a request or time-wait socket: the ports are in the sock_common all share.
  "tcp-segment-retransmitted": {
    probes: trace("tcp:tcp_retransmit_skb"),
    reads: TCP_CONNECTION,
    readFragments: TCP_PORTS,
    kernels: "4.15+ (tcp:tcp_retransmit_skb)",
  },
  // The direction is the probe point's: tcp_send_reset has the segment ($skb; $skb__nullable and a reason since
  // 6.10), tcp_receive_reset not. Both, without a direction: one handler, the ports read either way.
  "tcp-connection-reset": {
    probes: (e) => [
      ...(e.direction !== "received" ? ['kernel.trace("tcp:tcp_send_reset")'] : []),
      ...(e.direction !== "sent" ? ['kernel.trace("tcp:tcp_receive_reset")'] : []),
    ],
    reads: TCP_CONNECTION,
    readFragments: TCP_PORTS,
    kernels: "4.15+ (tcp:tcp_send_reset, tcp:tcp_receive_reset); a reset sent for no socket is traced since 6.10",
  },
  // After the driver took the packet ($rc NETDEV_TX_OK); a queue the driver refused (busy) is retried later.
  "net-transmit": {
    probes: trace("net:net_dev_xmit"),
    guard: () => "$rc == 0",
    reads: NETWORK_DEVICE,
    values: { netDevice: "$dev" },
    kernels: "3.x+ (net:net_dev_xmit); net:netif_receive_skb for the receives",
  },
  "net-watchdog-fired": {
    probes: () => [sinceKernel(WATCHDOG_TRACEPOINT_SINCE, 'kernel.trace("net:net_dev_xmit_timeout")', LOGGED_LINE_BEFORE_5_19.probe)],
    guard: () => sinceKernel(WATCHDOG_TRACEPOINT_SINCE, "1", watchdogLine().test),
    reads: () => ({ cpu: "cpu()", device: sinceKernel(WATCHDOG_TRACEPOINT_SINCE, "kernel_string($dev->name)", watchdogLine().device) }),
    fragments: () => watchdogLine().fragments,
    kernels: "net:net_dev_xmit_timeout since 5.6; before, the watchdog's line (once a boot), through a kprobe on vprintk_emit",
  },
  // Each CPU's tick, on that CPU: the local APIC timer's interrupt, which carries the tick (and the CPU's other
  // hrtimers). Not timer.profile: that is a 1 kHz perf event of its own, an extra interrupt per ms on every CPU.
  "cpu-tick": { probes: trace("irq_vectors:local_timer_entry"), reads: () => ({ cpu: "cpu()" }), kernels: "x86, 3.10+" },
  // An hrtimer's function about to run: $now is its clock base's time (the base the expiry is in). A soft timer
  // (HRTIMER_MODE_SOFT, is_soft since 4.16) runs from the softirq instead, which the guest's own load delays.
  "timer-expires": {
    probes: trace("timer:hrtimer_expire_entry"),
    guard: () => "!@choose_defined($hrtimer->is_soft, 0)",
    reads: () => ({ cpu: "cpu()" }),
    values: { lateness: "(kernel_long($now) - $hrtimer->node->expires)" },
    kernels: "2.6.28+ (soft hrtimers, left out, since 4.16)",
  },
};

/** The lowering of one event: its probe points as one handler's, and the rest. */
export function lower(event: GuestEvent, kernel: KernelRange) {
  const lowering = LOWERING[event.on] as EventLowering<EventName>;
  return {
    probe: lowering.probes(event, kernel).join(", "),
    key: lowering.key,
    guard: lowering.guard?.(kernel),
    reads: lowering.reads(kernel) as Partial<Record<string, string>>,
    values: lowering.values ?? {},
    readFragments: (lowering.readFragments ?? {}) as Partial<Record<string, Fragment[]>>,
    returnProbed: lowering.returnProbed ?? false,
    fragments: lowering.fragments?.(event) ?? [],
  };
}
