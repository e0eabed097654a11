// event NAME
import type { ConditionEntry } from "../src/stdlib.js";

export const event: ConditionEntry = {
  id: "event",
  syntax: "event NAME",
  holds: "one of softlockup, hung_task, rcu_stall, oom_kill, nmi_backtrace, warn, oops, panic happened in the guest kernel",
  head: "event",
  pattern: [{ names: "event", arg: "event", single: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ["per event: a tracepoint, a kprobe, or the kernel's message"],
  kernels: "per event",
  debuginfo: false,
  cost: { class: "low", detail: "fires only when the event happens" },
  example: "when event hung_task",
};
