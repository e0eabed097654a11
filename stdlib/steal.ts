// steal > P% within D
import { condition } from "./spec.js";

export const steal = condition({
  id: "steal",
  syntax: "steal > P% within D",
  holds:
    "the hypervisor ran something else while a guest CPU had work for more than P percent of the last D, by the guest kernel's own steal accounting (the steal column of /proc/stat, top's `st`); a steal counter that jumps by more than the time that passed, or runs backwards, holds too",
  head: "steal",
  pattern: [],
  threshold: false,
  share: {
    leastWindow: 100_000_000n,
    why: "the kernel adds a CPU's steal time to its count at that CPU's ticks, up to 4 ms apart (HZ=250), and the window is sampled in eighths: a shorter window is mostly sampling error",
  },
  subject: "cpu",
  watches: () => "each busy CPU's steal time, as its own kernel accounts it from KVM's steal-time record (kernel_cpustat's CPUTIME_STEAL), read at that CPU's timer ticks",
  tripsWhen: (limit) => `on a busy CPU's tick, when the steal time accounted to it is ${limit}, or its counter jumped by more than the time since its tick before last`,
  cost: {
    class: "low",
    detail: "one event per tick per busy CPU (up to 250 a second), eight array reads per rule there; no timer of its own, no wake-up: nothing on an idle CPU",
  },
  caveats: [
    "only under a hypervisor that gives the guest a steal-time record (KVM's kvm-steal-time, on by default): elsewhere the count stays 0 and the rule never trips",
    "seen at the CPU's own ticks: steal that keeps the vCPU from running at all is counted when it runs again (`vcpu stall` sees that from another CPU, while it lasts)",
    "an idle CPU is not sampled: it has no work to be robbed of; the steal of its last busy moments is seen at its next tick",
    "a pause of the whole guest (QMP stop, a migration's end) is not steal: its vCPU threads sleep, they do not wait for a CPU",
    "it holds at every tick while the share is above P: `N times within D` counts those ticks (up to 250 a second), not episodes",
    "the window is sampled in eighths: the rule trips at most D/8 (and a tick) after the share is reached, and never early",
    "a counter that jumps by more than the time that passed (or runs backwards, which the kernel's accounting turns into a huge jump) is a broken steal-time record: it trips this rule, as the share it shows is above any P",
  ],
  pausesUncountable: "a pause is not steal: the vCPU threads sleep, they do not wait for a host CPU; 'event vm_resumed' catches the resume",
  example: "when steal > 20% within 1s on cpu 1",
  needs: (args) => ({ kind: "event", at: { on: "cpu-tick" }, select: [{ kind: "steal-share", percent: args.share!.percent, inclusive: args.share!.inclusive }] }),
});
