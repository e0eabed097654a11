// tick gap > D
import type { ConditionEntry } from "../src/stdlib.js";

export const tickGap: ConditionEntry = {
  id: "tick-gap",
  syntax: "tick gap > D",
  holds: "a guest CPU saw no timer tick for longer than D: the vCPU was not run by the hypervisor",
  head: "tick",
  pattern: [{ word: "gap" }],
  threshold: true,
  attributes: ["cpu"],
  probes: ["timer.profile"],
  kernels: "any",
  debuginfo: false,
  cost: { class: "low", detail: "one timer hit per tick per CPU" },
  example: "when tick gap > 100ms after 30s",
};
