// tick gap > D
import type { ConditionEntry } from "../src/stdlib.js";

export const tickGap: ConditionEntry = {
  id: "tick-gap",
  syntax: "tick gap > D",
  holds: "a busy guest CPU saw no timer tick for longer than D: the vCPU was not run by the hypervisor (time the CPU spent idle does not count)",
  head: "tick",
  pattern: [{ word: "gap" }],
  threshold: true,
  attributes: ["cpu"],
  probes: ["timer.profile", 'kernel.trace("power:cpu_idle")'],
  kernels: "any",
  debuginfo: false,
  cost: { class: "low", detail: "one timer hit per tick per busy CPU (HZ times a second), one per idle entry and exit" },
  example: "when tick gap > 100ms after 30s",
  codegen: () => ({
    kind: "event",
    // Each CPU's tick, on that CPU: a vCPU the hypervisor did not run sees the gap on its
    // first tick back, and trips there and then.
    probe: "timer.profile",
    prelude: ["qt_gap = qt_tick_gap() # ns since this CPU's previous tick; 0 right after idle"],
    test: ({ exceeds }) => exceeds("qt_gap"),
    attributes: { cpu: "cpu()" },
    helpers: [
      {
        probe: 'kernel.trace("power:cpu_idle")',
        body: ["qt_cpu_idle($state)"],
        reason: "an idle CPU gets no ticks (NO_HZ): the time it spent idle is not a gap",
      },
    ],
  }),
};
