// The lowering of every guest event to SystemTap probe points, for a range of
// kernels: what to probe, what the event identifies, how to read its subject's
// filter attributes, and the values its tests read. The one table a new event
// (and so most new conditions) adds a row to; kernel-version differences live
// here too.
import { EVENTS, SUBJECTS, type EventName, type GuestEvent, type KernelEvent } from "../../../stdlib/index.js";
import type { Fragment } from "./fragment.js";
import { changedIn, type KernelRange } from "./kernel.js";
import { moduleSymbols } from "./runtime/kernel-facts.js";
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
  /** Runtime fragments the probes need. */
  fragments?: (event: GuestEvent) => Fragment[];
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

const trace = (name: string) => () => [`kernel.trace(${stapString(name)})`];

/** "MODULE:NAME" is a module's function; a plain NAME, the kernel's own (vmlinux). */
function functionProbe(symbol: string): string {
  const [module, name] = symbol.includes(":") ? symbol.split(":") : [undefined, symbol];
  return module ? `kprobe.module(${stapString(module)}).function(${stapString(name)})` : `kprobe.function(${stapString(name)})`;
}

function needsModuleSymbols(event: GuestEvent): Fragment[] {
  return event.symbol?.includes(":") ? [moduleSymbols] : [];
}

/** A kernel function's entry: `!` takes the first name that this kernel has. */
const entered = (...functions: string[]) => [functions.map((f) => `kprobe.function(${stapString(f)})`).join(" !, ")];

const KERNEL_EVENT_PROBES: Partial<Record<KernelEvent, string[]>> = {
  oom_kill: [`kernel.trace("oom:mark_victim")`],
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
    guard: () => "$p->pid != 0",
    reads: taskAt("$p"),
    kernels: "2.6.32+",
  },
  "task-switched-in": { probes: trace("sched:sched_switch"), key: "$next->pid", reads: taskAt("$next"), kernels: "sched_switch gained an argument in 5.18 ($next is in every version)" },
  "task-blocks": {
    probes: trace("sched:sched_switch"),
    key: "$prev->pid",
    // Not preempted, and in D state as ps shows it: TASK_UNINTERRUPTIBLE (0x2) without TASK_NOLOAD (0x400, idle
    // kernel threads). The state is an argument since 5.18, prev->__state since 5.14, prev->state before.
    guard: (kernel) => `!$preempt && (${changedIn(kernel, "5.18", changedIn(kernel, "5.14", "$prev->state", "$prev->__state"), "$prev_state")} & 0x402) == 0x2`,
    reads: taskAt("$prev"),
    kernels: "4.4+ (sched_switch's preempt argument); the state's source changed in 5.14 and 5.18",
  },
  "function-entry": { probes: (e) => [functionProbe(e.symbol!)], key: "tid()", reads: CURRENT, fragments: needsModuleSymbols, kernels: "any" },
  "function-return": {
    // Enough return-probe instances that concurrent calls are not missed: a missed return would look like a call still running.
    probes: (e) => [`${functionProbe(e.symbol!)}.return.maxactive(1024)`],
    key: "tid()",
    reads: CURRENT,
    fragments: needsModuleSymbols,
    kernels: "any",
  },
  "console-line": { probes: trace("printk:console"), reads: CURRENT, values: { line: { text: "$text", length: "$len" } }, kernels: "3.3+" },
  "kernel-event": {
    probes: (e) => {
      const probes = KERNEL_EVENT_PROBES[e.kernelEvent!];
      if (!probes) throw new Error(`no probe point for kernel event ${e.kernelEvent}`);
      return probes;
    },
    reads: CURRENT,
    kernels: "mark_victim exists since 4.8",
  },
  // The signal as sent, with its receiver ($task); $result 0: queued for delivery.
  "signal-sent": {
    probes: trace("signal:signal_generate"),
    reads: taskAt("$task"),
    values: { signal: { number: "$sig", result: "$result" } },
    kernels: "2.6.31+",
  },
  // Each CPU's tick, on that CPU: the local APIC timer's interrupt, which carries the tick (and the CPU's other
  // hrtimers). Not timer.profile: that is a 1 kHz perf event of its own, an extra interrupt per ms on every CPU.
  "cpu-tick": { probes: trace("irq_vectors:local_timer_entry"), reads: () => ({ cpu: "cpu()" }), kernels: "x86, 3.10+" },
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
    fragments: lowering.fragments?.(event) ?? [],
  };
}
