// vcpu stall > D
import { condition } from "./spec.js";

export const vcpuStall = condition({
  id: "vcpu-stall",
  syntax: "vcpu stall > D",
  holds:
    "a busy guest CPU made no progress (no timer tick) for longer than D, seen from another CPU while it still makes none: the hypervisor is not running that vCPU",
  head: "vcpu",
  pattern: [{ word: "stall" }],
  threshold: true,
  leastThreshold: { nanoseconds: 10_000_000n, why: "a busy CPU's ticks come up to 4 ms apart (HZ=250), a tick or two late on a loaded host: a shorter silence cannot be told from ticking" },
  subject: "cpu",
  watches: () => "each busy CPU's timer ticks, from the previous online CPU (a one-shot timer pinned there, due when the last tick is D old)",
  tripsWhen: (limit) =>
    `on the watching CPU, while the stall lasts: when a busy CPU's last tick is ${limit} old, confirmed by a second look two ticks later (a pause of the whole guest does not trip)`,
  cost: {
    class: "low",
    detail:
      "a store per tick per busy CPU and per idle exit; on the CPU that watches a busy one, one timer per D (a cross-CPU call to start it after it was off); nothing on an idle guest",
  },
  caveats: [
    "when every vCPU is stalled, nothing in the guest runs: nothing sees it",
    "with one online CPU, nothing watches it",
    "an idle CPU (halted) is not watched: not running it costs the guest nothing until it has work",
    "a nohz_full CPU is not watched: running one task, it has no tick to watch",
    "under KVM a pause of the whole guest (QMP stop/cont, a snapshot, a migration's end) is not counted on either clocksource: kvm-clock hides it, and on the TSC qtrip's clock takes it out; without kvm-clock (TCG, no-kvmclock) the guest cannot tell it from a stall; even then it does not trip: the watching CPU stopped too",
  ],
  pausesUncountable: "a pause stops every vCPU, the watching one too: none is run to see it; 'event vm_resumed' catches the resume",
  example: "when vcpu stall > 100ms",
  needs: () => ({ kind: "event", at: { on: "cpu-tick" }, select: [{ kind: "progress-watched" }] }),
});
