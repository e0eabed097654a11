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
  watches: () => "each busy CPU's timer ticks, from the previous online CPU (as `vcpu stall` does) and on that CPU",
  tripsWhen: (limit) =>
    `when a busy CPU's last tick is ${limit} old: seen from the previous online CPU while the gap lasts (as \`vcpu stall\`), else on the CPU's own first tick back`,
  cost: {
    class: "low",
    detail: "one event per tick per busy CPU, one per idle entry and exit; on the CPU that watches a busy one, one timer per D (a cross-CPU call to start it after it was off); nothing on an idle guest",
  },
  caveats: [
    "seen from another CPU while it lasts when one runs (a guest's only online CPU, or one whose neighbour was not run either, trips on its own first tick back, once the stall is over)",
    "under KVM a pause of the whole guest (QMP stop/cont, a snapshot, a migration's end) is not counted on either clocksource (unless the rule says `counting pauses`): kvm-clock hides it, and on the TSC qtrip's clock takes it out; without kvm-clock (TCG, no-kvmclock) the guest cannot tell it from a stall, and a busy CPU's gap trips at the resume, on its first tick back (`vcpu stall` does not)",
    "a nohz_full CPU is not watched: running one task, it stops its tick",
  ],
  pausesCountable: true,
  example: "when tick gap > 100ms after 30s",
  // Another CPU sees the gap while it lasts (fragments/vcpu-watch.ts); else the vCPU sees it on its first tick back.
  needs: () => ({ kind: "event", at: { on: "cpu-tick" }, select: [{ kind: "tick-interval-exceeds" }] }),
});
