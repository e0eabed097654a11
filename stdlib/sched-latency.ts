// sched latency > D
import type { ConditionEntry } from "../src/stdlib.js";

export const schedLatency: ConditionEntry = {
  id: "sched-latency",
  syntax: "sched latency > D",
  holds: "a runnable task waited longer than D on a run queue before it ran",
  head: "sched",
  pattern: [{ word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("sched:sched_wakeup")', 'kernel.trace("sched:sched_wakeup_new")', 'kernel.trace("sched:sched_switch")'],
  kernels: "sched_switch arguments changed in 5.18",
  debuginfo: false,
  cost: { class: "high", detail: "a tracepoint hit per wakeup and per context switch on every CPU" },
  example: 'when sched latency >= 50ms on comm "qemu-ga" and cpu 2',
};
