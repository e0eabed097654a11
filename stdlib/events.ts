// What a guest backend must be able to observe: the events conditions are
// built from, in the kernel's terms but in no tracer's syntax. Each names its
// subject (whose attributes filters read) and what it identifies (the key that
// start and stop events of an in-flight table share). A backend lowers every
// one of them (src/codegen/stap/lowering.ts); one it lacks does not type-check.
import type { Subject } from "./attributes.js";

export interface EventInfo {
  /** What happened, in the reference's words. */
  doc: string;
  subject: Subject;
  /** What the event identifies: the thread it happens to, or a block request. */
  key?: "thread" | "request";
}

export const EVENTS = {
  "syscall-enter": { doc: "a thread enters a system call", subject: "current task", key: "thread" },
  "syscall-exit": { doc: "a thread returns from a system call", subject: "current task", key: "thread" },
  "thread-exit": { doc: "a thread exits (also while blocked in a call: exit, exit_group, a fatal signal)", subject: "current task", key: "thread" },
  "thread-execs": {
    doc: "a thread other than its process's leader execs a program: it takes the leader's pid, and its own thread id ends without an exit",
    subject: "current task",
    key: "thread",
  },
  "block-issue": { doc: "a block request is issued to the driver", subject: "block request", key: "request" },
  "block-complete": { doc: "a block request completes", subject: "block request", key: "request" },
  "block-requeue": { doc: "a block request goes back to the queue", subject: "block request", key: "request" },
  "task-woken": {
    doc: "a task that is off its CPU is woken (made runnable); the wake-up of a task still on its CPU, before it slept, is not one",
    subject: "woken task",
    key: "thread",
  },
  "task-switched-in": { doc: "a task gets a CPU", subject: "task getting the CPU", key: "thread" },
  "task-switched-out": { doc: "a task leaves its CPU (it sleeps, or is preempted)", subject: "task leaving the CPU", key: "thread" },
  "task-blocks": { doc: "a task leaves its CPU in uninterruptible sleep (D state), not preempted", subject: "task leaving the CPU", key: "thread" },
  "reclaim-begins": {
    doc: "a task begins to free memory for an allocation of its own (direct reclaim, also a memory cgroup's at its limit) or to compact it (direct compaction)",
    subject: "current task",
    key: "thread",
  },
  "reclaim-ends": { doc: "a task's direct reclaim or direct compaction returns", subject: "current task", key: "thread" },
  "function-entry": { doc: "a kernel function is called", subject: "current task", key: "thread" },
  "function-return": { doc: "a kernel function returns", subject: "current task", key: "thread" },
  "console-line": { doc: "the kernel prints a line to its log", subject: "logging task" },
  "task-hung": { doc: "the hung-task detector (khungtaskd) finds a task that has been in D state longer than kernel.hung_task_timeout_secs", subject: "hung task" },
  "rcu-stall": { doc: "RCU reports a CPU stall (normal, self-detected or expedited grace period)", subject: "current task" },
  "kernel-event": { doc: "the kernel reports a problem (warning, oops, panic, NMI backtrace)", subject: "current task" },
  "oom-victim": { doc: "the OOM killer picks a victim and kills it", subject: "OOM victim" },
  "signal-sent": { doc: "a signal is queued for a task", subject: "receiving task" },
  "tcp-segment-retransmitted": { doc: "the guest's TCP retransmits a segment", subject: "TCP connection" },
  "tcp-connection-reset": { doc: "the guest's TCP sends a reset, or accepts one it received", subject: "TCP connection" },
  "net-transmit": { doc: "a network device's driver takes a packet to send", subject: "network device" },
  "net-watchdog-fired": { doc: "a network device's transmit watchdog finds a transmit queue stopped too long", subject: "network device" },
  "cpu-tick": { doc: "a busy CPU's periodic tick", subject: "cpu" },
  "timer-expires": { doc: "an hrtimer is due and its function runs, in interrupt context, on the CPU it was queued on", subject: "cpu" },
} as const satisfies Record<string, EventInfo>;

export type EventName = keyof typeof EVENTS;
