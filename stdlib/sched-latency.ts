// sched latency > D
import type { ConditionEntry } from "../src/stdlib.js";
import { THREAD_EXIT_STOP } from "./common.js";

export const schedLatency: ConditionEntry = {
  id: "sched-latency",
  syntax: "sched latency > D",
  holds: "a woken task waited longer than D on a run queue before it ran, detected while it still waits",
  head: "sched",
  pattern: [{ word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("sched:sched_wakeup")', 'kernel.trace("sched:sched_wakeup_new")', 'kernel.trace("sched:sched_switch")', 'kernel.trace("sched:sched_process_exit")', "timer.ms(scan period)"],
  kernels: "2.6.32+; sched_switch gained an argument in 5.18 ($next is in every version); a preempted task that stays runnable is not timed (wakeup latency only)",
  debuginfo: false,
  cost: { class: "high", detail: "a tracepoint hit per wakeup and per context switch on every CPU" },
  example: 'when sched latency >= 50ms on comm "qemu-ga" and cpu 2',
  codegen: () => ({
    kind: "inflight",
    table: "sched",
    // From wakeup to running, keyed by the woken thread; the filters look at it, not at its waker.
    start: {
      probes: ['kernel.trace("sched:sched_wakeup")', 'kernel.trace("sched:sched_wakeup_new")'],
      key: "$p->pid",
      select: "$p->pid != 0",
    },
    stops: [
      { probe: 'kernel.trace("sched:sched_switch")', key: "$next->pid", reason: "the woken thread got the CPU" },
      THREAD_EXIT_STOP,
    ],
    attributes: {
      pid: "$p->tgid",
      tid: "$p->pid",
      comm: "kernel_string($p->comm)",
      uid: "task_uid($p)",
      cpu: "task_cpu($p)",
    },
  }),
};
