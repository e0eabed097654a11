// timer late > D
import { condition } from "./spec.js";

export const timerLate = condition({
  id: "timer-late",
  syntax: "timer late > D",
  holds:
    "a guest hrtimer ran more than D after its expiry time, as cyclictest measures: the vCPU was not run, or its timer interrupt not delivered, when the timer was due (idle CPUs count too)",
  head: "timer",
  pattern: [{ word: "late" }],
  threshold: true,
  leastThreshold: {
    nanoseconds: 10_000n,
    why: "reaching a due timer through its interrupt takes microseconds on bare metal and more in a guest: a smaller lateness cannot be told from on time",
  },
  subject: "cpu",
  watches: () => "every hrtimer that runs in interrupt context (the tick, sleeps, timerfd, POSIX timers), as it runs",
  tripsWhen: (limit) => `when a timer runs on a CPU ${limit} after its hard expiry time, on that CPU`,
  cost: { class: "low", detail: "one event per hrtimer expiry (a busy CPU's tick: up to 250 a second; an idle CPU's due timers); no timer of its own, no wake-up" },
  caveats: [
    "seen when the late timer runs, so once the stall is over (and never if the vCPU is not run again): `vcpu stall` sees it from another CPU while it lasts",
    "measured from the timer's hard expiry, after its slack (a normal task's sleep may end up to 50 µs after the time it asked for, by design)",
    "timers that expire in softirq context (HRTIMER_MODE_SOFT) are left out: they wait for the softirq, which the guest's own load delays",
    "under KVM a pause of the whole guest (QMP stop/cont, a snapshot, a migration's end) is not counted on either clocksource: kvm-clock hides it, and on the TSC qtrip's clock takes it out; without kvm-clock (TCG, no-kvmclock) the guest cannot tell it from a stall, and every timer due during it comes late at the resume",
  ],
  pausesUncountable: "the lateness is measured on the guest's clock: a timer due during a pause is late by it on the TSC only, never on kvm-clock; 'event vm_resumed' catches the resume",
  example: "when timer late > 20ms",
  needs: () => ({ kind: "event", at: { on: "timer-expires" }, select: [{ kind: "expired-late" }] }),
});
