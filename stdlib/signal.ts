// signal SIGNAME
import type { ConditionEntry } from "../src/stdlib.js";

export const signal: ConditionEntry = {
  id: "signal",
  syntax: "signal SIGNAME",
  holds: "the signal was sent to a task and queued for it (pid, comm etc. are the receiver's; the trip happens in the sender)",
  head: "signal",
  pattern: [{ names: "signal", arg: "signal", single: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("signal:signal_generate")'],
  kernels: "2.6.31+",
  debuginfo: false,
  cost: { class: "low", detail: "one tracepoint hit per signal sent" },
  example: 'when signal SIGKILL on comm "mysqld"',
  // signal_generate: the signal as sent, with its receiver ($task). Not signal_deliver: a
  // fatal signal without a handler (SIGTERM, SIGINT...) kills the group with SIGKILL
  // (complete_signal), and signal_deliver then reports SIGKILL. $result 0: queued for delivery.
  codegen: ({ names }) => ({
    kind: "event",
    probe: 'kernel.trace("signal:signal_generate")',
    test: () => `$sig == ${names.signal[0].number} && $result == 0`,
    attributes: {
      pid: "$task->tgid",
      tid: "$task->pid",
      comm: "kernel_string($task->comm)",
      uid: "task_uid($task)",
      cpu: "task_cpu($task)",
    },
  }),
};
