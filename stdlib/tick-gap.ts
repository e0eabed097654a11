// tick gap > D
import { condition } from "./spec.js";

export const tickGap = condition({
  id: "tick-gap",
  syntax: "tick gap > D",
  holds: "a busy guest CPU saw no timer tick for longer than D: the vCPU was not run by the hypervisor (time the CPU spent idle does not count)",
  head: "tick",
  pattern: [{ word: "gap" }],
  threshold: true,
  leastThreshold: { nanoseconds: 10_000_000n, why: "a busy CPU's ticks come up to 4 ms apart (HZ=250), a tick or two late on a loaded host: a shorter silence cannot be told from ticking" },
  subject: "cpu",
  watches: () => "each busy CPU's timer ticks",
  tripsWhen: (limit) => `when a CPU's gap between two ticks is ${limit}, on that CPU's first tick back`,
  cost: { class: "low", detail: "one event per tick per busy CPU, one per idle entry and exit" },
  caveats: [
    "seen on the stalled CPU's own first tick back, once the stall is over (and never if it is not run again): `vcpu stall` sees it from another CPU while it lasts",
    "a nohz_full CPU is not watched: running one task, it stops its tick",
  ],
  example: "when tick gap > 100ms after 30s",
  // A vCPU the hypervisor did not run sees the gap on its first tick back, and trips there and then.
  needs: () => ({ kind: "event", at: { on: "cpu-tick" }, select: [{ kind: "tick-interval-exceeds" }] }),
});
