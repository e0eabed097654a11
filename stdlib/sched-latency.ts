// sched latency > D
import { THREAD_ENDS } from "./common.js";
import { condition } from "./spec.js";

export const schedLatency = condition({
  id: "sched-latency",
  syntax: "sched latency > D",
  holds: "a woken task waited longer than D on a run queue before it ran, detected while it still waits",
  head: "sched",
  pattern: [{ word: "latency" }],
  threshold: true,
  // The filters look at the woken task, not at its waker.
  subject: "woken task",
  watches: () => "woken tasks waiting for a CPU",
  cost: { class: "high", detail: "an event per wakeup and per context switch on every CPU" },
  caveats: [
    "a preempted task that stays runnable is not timed (wakeup latency only)",
    "a task woken while still on its CPU (before it slept) is not timed: it never waited",
  ],
  pausesCountable: true,
  example: 'when sched latency >= 50ms on comm "qemu-ga" and cpu 2',
  needs: () => ({
    kind: "inflight",
    table: "sched",
    start: { on: "task-woken" },
    stops: [
      { on: "task-switched-in", reason: "the woken thread got the CPU" },
      // Whatever started its timing, a task that leaves a CPU was not waiting for one.
      { on: "task-switched-out", reason: "the thread left a CPU, so it had one" },
      ...THREAD_ENDS,
    ],
  }),
});
