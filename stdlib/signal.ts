// signal SIGNAME
import type { ConditionEntry } from "../src/stdlib.js";
import { CURRENT_TASK } from "./common.js";

export const signal: ConditionEntry = {
  id: "signal",
  syntax: "signal SIGNAME",
  holds: "the signal was delivered to a task (pid, comm etc. are the receiver's)",
  head: "signal",
  pattern: [{ names: "signal", arg: "signal", single: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("signal:signal_deliver")'],
  kernels: "2.6.31+",
  debuginfo: false,
  cost: { class: "low", detail: "one tracepoint hit per delivered signal" },
  example: 'when signal SIGKILL on comm "mysqld"',
  // signal_deliver fires in the receiving thread as it takes the signal (SIGKILL included).
  codegen: ({ names }) => ({
    kind: "event",
    probe: 'kernel.trace("signal:signal_deliver")',
    test: () => `$sig == ${names.signal[0].number}`,
    attributes: CURRENT_TASK,
  }),
};
