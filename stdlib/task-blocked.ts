// task blocked > D
// A task in uninterruptible sleep (D state) for longer than D, seen while it
// still sleeps: what the kernel's hung-task detector reports after 120 s, at
// the granularity of a latency rule.
import { THREAD_ENDS } from "./common.js";
import { condition } from "./spec.js";

export const taskBlocked = condition({
  id: "task-blocked",
  syntax: "task blocked > D",
  holds: "a task has been in uninterruptible sleep (D state) longer than D, detected while it still sleeps",
  head: "task",
  pattern: [{ word: "blocked" }],
  threshold: true,
  subject: "task leaving the CPU",
  watches: () => "tasks in uninterruptible sleep (D state)",
  cost: { class: "high", detail: "an event per context switch and per wakeup on every CPU" },
  caveats: [
    "idle kernel threads that sleep uninterruptibly without counting as load (TASK_IDLE) are not timed, as the hung-task detector skips them",
    "a task preempted while it was about to sleep is not timed until it sleeps",
  ],
  pausesCountable: true,
  example: 'when task blocked > 2s on comm "qemu-kvm"',
  needs: () => ({
    kind: "inflight",
    table: "blocked",
    start: { on: "task-blocks" },
    stops: [
      { on: "task-woken", reason: "the task was woken" },
      { on: "task-switched-in", reason: "the task runs again" },
      ...THREAD_ENDS,
    ],
  }),
});
