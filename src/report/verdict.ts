// Pass 3 of `qtrip report`: the one-line verdict, read from the analysis. The
// engineer pastes it into a ticket; the evidence that follows backs each word.
import type { Analysis, TaskTime, VcpuReport } from "./analyse.js";
import type { Ns } from "./events.js";

export type Cause = "runnable" | "asleep" | "stopped" | "exits";

export interface Verdict {
  /** The vCPU thread the verdict is about. */
  tid: number;
  /** false: the vCPU ran guest code (or the guest idled) as it should. */
  problem: boolean;
  /** The largest share of the time without guest code, when there is a problem. */
  cause?: Cause;
  /** Time without guest code (runnable, asleep, stopped, in exits), ns. */
  withoutGuestNs: Ns;
  line: string;
}

/** A vCPU is in trouble when it spent this share of the window without guest code, in one stretch or in all. */
const GAP_SHARE = 0.2;
const TOTAL_SHARE = 0.5;

export function ms(ns: Ns): string {
  const v = ns / 1e6;
  return `${v >= 10 ? Math.round(v) : v >= 1 ? v.toFixed(1) : v.toFixed(2)} ms`;
}

/** sched_switch's prio in the words of chrt and nice. */
export function priority(prio: number): string {
  return prio < 100 ? `prio ${prio}: realtime ${99 - prio}` : prio === 120 ? "prio 120: nice 0" : `prio ${prio}: nice ${prio - 120}`;
}

export function vcpuName(v: VcpuReport): string {
  const index = v.vcpu ?? /^CPU (\d+)\/KVM$/.exec(v.comm)?.[1];
  const generic = /^CPU \d+\/KVM$/.test(v.comm);
  if (index !== undefined) return `vCPU ${index} (tid ${v.tid}${generic ? "" : `, ${v.comm}`})`;
  return `vCPU thread ${v.comm} (tid ${v.tid})`;
}

const withoutGuest = (v: VcpuReport): Ns => v.time.exit + v.time.runnable + v.time.asleep + v.time.stopped;

function blockerText(v: VcpuReport): string {
  const top: TaskTime | undefined = v.blockers[0];
  if (!top) return `runnable for ${ms(v.time.runnable)} (who ran instead is not in the buffer)`;
  const others = v.blockers.length > 1 ? ` and ${v.blockers.length - 1} other task${v.blockers.length > 2 ? "s" : ""}` : "";
  const who = top.tid === 0 ? `the idle task (the wake-up had not reached CPU ${top.cpu})` : `${top.comm} (tid ${top.tid}, ${priority(top.prio)})`;
  return `runnable for ${ms(v.time.runnable)} behind ${who} on CPU ${top.cpu}${others}`;
}

const SLEEP_WORDS: Record<string, string> = { S: "sleeping", D: "in uninterruptible sleep (D)", I: "idle-waiting", "?": "since before the buffer's first record" };

function part(v: VcpuReport, cause: Cause): string {
  switch (cause) {
    case "runnable":
      return blockerText(v);
    case "asleep": {
      const state = v.sleeps[0]?.state ?? "?";
      return `asleep in the host for ${ms(v.time.asleep)} (${SLEEP_WORDS[state] ?? `state ${state}`})`;
    }
    case "stopped":
      return `stopped for ${ms(v.time.stopped)} (SIGSTOP, or a debugger)`;
    case "exits": {
      const top = v.exits.filter((e) => e.ns > 0).slice(0, 2);
      return `${ms(v.time.exit)} in exits (${top.map((e) => `${e.reason} ×${e.count}`).join(", ") || "reason not in the buffer"})`;
    }
  }
}

function causes(v: VcpuReport): { cause: Cause; ns: Ns }[] {
  const all: { cause: Cause; ns: Ns }[] = [
    { cause: "runnable", ns: v.time.runnable },
    { cause: "asleep", ns: v.time.asleep },
    { cause: "stopped", ns: v.time.stopped },
    { cause: "exits", ns: v.time.exit },
  ];
  const total = withoutGuest(v);
  return all.filter((c) => c.ns > 0 && c.ns >= total * 0.05).sort((a, b) => b.ns - a.ns);
}

function inTrouble(v: VcpuReport, a: Analysis): boolean {
  const known = a.window.ns - v.time.unknown;
  const gap = v.longestGap ? v.longestGap.end - v.longestGap.start : 0;
  return known > 0 && (gap >= GAP_SHARE * a.window.ns || withoutGuest(v) >= TOTAL_SHARE * known);
}

export function judge(a: Analysis): Verdict {
  const before = `the ${ms(a.window.ns)} before the trip`;
  const missing = a.buffer.missingNs > 0 ? ` (the buffer misses the first ${ms(a.buffer.missingNs)})` : "";
  if (!a.vcpus.length) {
    return { tid: a.meta.tripTid ?? 0, problem: false, withoutGuestNs: 0, line: `no vCPU thread entered a guest in ${before}${missing}: is the VMM's pid right, and were the kvm events enabled?` };
  }
  const troubled = a.vcpus.filter((v) => inTrouble(v, a)).sort((x, y) => withoutGuest(y) - withoutGuest(x) || Number(y.tid === a.meta.tripTid) - Number(x.tid === a.meta.tripTid));
  const worst = troubled[0];
  if (worst) {
    const list = causes(worst);
    const line = `${vcpuName(worst)} did not run guest code for ${ms(withoutGuest(worst))} of ${before}: ${list.map((c) => part(worst, c.cause)).join(", then ")}${missing}`;
    return { tid: worst.tid, problem: true, cause: list[0]?.cause ?? "exits", withoutGuestNs: withoutGuest(worst), line };
  }
  const v = a.vcpus.find((x) => x.tid === a.meta.tripTid) ?? a.vcpus[0]!;
  const others = a.vcpus.length > 1 ? ` (so did the other ${a.vcpus.length - 1} vCPU${a.vcpus.length > 2 ? "s" : ""})` : "";
  const gap = v.longestGap ? `; longest stretch without guest code ${ms(v.longestGap.end - v.longestGap.start)}` : "";
  const how =
    v.time.idle > v.time.guest
      ? `was idle (halted by the guest) for ${ms(v.time.idle)} and ran guest code for ${ms(v.time.guest)} whenever it was woken`
      : `ran guest code normally: ${ms(v.time.guest)} in the guest, ${ms(v.time.exit)} in exits`;
  return { tid: v.tid, problem: false, withoutGuestNs: withoutGuest(v), line: `${vcpuName(v)} ${how} in ${before}${gap}${others}${missing}` };
}
