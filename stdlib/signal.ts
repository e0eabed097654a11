// signal SIGNAME
import type { ConditionEntry } from "../src/stdlib.js";

export const signal: ConditionEntry = {
  id: "signal",
  syntax: "signal SIGNAME",
  holds: "the signal was delivered to a task",
  head: "signal",
  pattern: [{ names: "signal", arg: "signal", single: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("signal:signal_deliver")'],
  kernels: "2.6.31+",
  debuginfo: false,
  cost: { class: "low", detail: "one tracepoint hit per delivered signal" },
  example: 'when signal SIGKILL on comm "mysqld"',
};
