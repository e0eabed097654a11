// Pass 2 of `qtrip report`: what each vCPU thread and each host CPU it used did in
// the window before the trip. One Analysis object feeds the text, JSON and SVG.
import type { CaptureMeta, Ns, ParsedTrace, TraceEvent } from "./events.js";

/** What a vCPU thread was doing. `idle`: asleep after the guest halted (its own choice, not the host's). */
export type VcpuState = "guest" | "exit" | "runnable" | "asleep" | "idle" | "stopped" | "unknown";

export interface Segment {
  state: VcpuState;
  start: Ns;
  end: Ns;
  /** The host CPU it ran on or waited for. */
  cpu?: number;
  /** exit: the exit reason ("REASON (VMM)" once it went to the VMM's user space); asleep: the task state (S, D; ? when unknown). */
  label?: string;
}

export interface TaskTime {
  comm: string;
  tid: number;
  /** The kernel's prio as sched_switch prints it: 0–99 realtime (99 − rt priority), 100–139 normal (120 + nice). */
  prio: number;
  cpu: number;
  ns: Ns;
}

export interface VcpuReport {
  tid: number;
  comm: string;
  /** From kvm_entry's `vcpu N`, when the kernel prints it. */
  vcpu?: number;
  /** Time per state over the window. */
  time: Record<VcpuState, Ns>;
  /** Exit time by reason, longest first; vmmNs: the part spent in the VMM's user space (after kvm_userspace_exit). */
  exits: { reason: string; ns: Ns; vmmNs: Ns; count: number }[];
  /** Who ran on the CPU while this thread was runnable there, longest first. */
  blockers: TaskTime[];
  /** Time asleep per task state letter (S, D, …). */
  sleeps: { state: string; ns: Ns }[];
  migrations: { t: Ns; from: number; to: number }[];
  /** The longest stretch with no guest time (idle and unknown time end it too), and what filled it. */
  longestGap?: { start: Ns; end: Ns; parts: { state: VcpuState; label?: string; ns: Ns }[] };
  segments: Segment[];
}

export interface CpuReport {
  cpu: number;
  /** Who ran there, as segments (tid 0 is idle). */
  tasks: { start: Ns; end: Ns; comm: string; tid: number; prio: number }[];
  irqs: { kind: "irq" | "softirq"; name: string; count: number; ns: Ns }[];
  interrupts: { kind: "irq" | "softirq"; name: string; start: Ns; end: Ns }[];
}

export interface Analysis {
  meta: CaptureMeta;
  window: { start: Ns; end: Ns; ns: Ns; source: "threshold" | "option" | "default" };
  /** The first and last records in the buffer. */
  buffer: { first: Ns; last: Ns; events: number; wrapped: boolean; missingNs: Ns; entries?: ParsedTrace["entries"] };
  vcpus: VcpuReport[];
  cpus: CpuReport[];
  /** Events of interest near the trip (the stack trace the freeze took), for the evidence. */
  stack?: string[];
}

/** The default window: the rule's threshold plus 10%, or 1 s when the capture does not say. */
export function defaultWindow(meta: CaptureMeta): { ns: Ns; source: Analysis["window"]["source"] } {
  return meta.thresholdNs ? { ns: Math.round(meta.thresholdNs * 1.1), source: "threshold" } : { ns: 1e9, source: "default" };
}

const HALT = /^(hlt|HLT|halt)$/;
/** An exit segment's label once kvm_userspace_exit sent the exit to the VMM. */
export const VMM_SUFFIX = " (VMM)";

interface Tracker {
  state: VcpuState;
  since: Ns;
  cpu?: number;
  label?: string;
  lastExit?: string;
  report: VcpuReport;
  exitCounts: Map<string, { ns: Ns; count: number }>;
}

/** The state a thread was in before its first event, read from that event. */
function inferred(e: TraceEvent, tid: number): Pick<Tracker, "state" | "cpu" | "label"> {
  switch (e.kind) {
    case "kvm_exit":
      return { state: "guest", cpu: e.cpu };
    case "kvm_entry":
    case "kvm_userspace_exit":
      return { state: "exit", cpu: e.cpu };
    case "sched_switch":
      return e.prevTid === tid ? { state: "exit", cpu: e.cpu } : { state: "runnable", cpu: e.cpu };
    case "sched_wakeup":
      return { state: "asleep", label: "?" };
    default:
      return e.tid === tid ? { state: "exit", cpu: e.cpu } : { state: "unknown" };
  }
}

const touches = (e: TraceEvent, tid: number): boolean =>
  e.tid === tid ||
  (e.kind === "sched_switch" && (e.prevTid === tid || e.nextTid === tid)) ||
  (e.kind === "sched_wakeup" && e.wakeTid === tid) ||
  (e.kind === "sched_migrate_task" && e.taskTid === tid);

export function analyse(trace: ParsedTrace, meta: CaptureMeta, windowNs?: Ns): Analysis {
  const chosen = windowNs !== undefined ? { ns: windowNs, source: "option" as const } : defaultWindow(meta);
  const window = { start: meta.tripTime - chosen.ns, end: meta.tripTime, ns: chosen.ns, source: chosen.source };
  const events = trace.events.filter((e) => e.t <= window.end);
  const first = trace.events[0]!.t;
  const last = trace.events[trace.events.length - 1]!.t;
  const missingNs = Math.max(0, Math.min(first, window.end) - window.start);
  const buffer = { first, last, events: trace.events.length, wrapped: missingNs > 0, missingNs, ...(trace.entries ? { entries: trace.entries } : {}) };

  const threads = vcpuThreads(trace, meta);
  const trackers = new Map<number, Tracker>();
  for (const { tid, comm } of threads) {
    const firstEvent = events.find((e) => touches(e, tid));
    const start = firstEvent ? inferred(firstEvent, tid) : { state: "unknown" as const };
    const report: VcpuReport = {
      tid,
      comm,
      time: { guest: 0, exit: 0, runnable: 0, asleep: 0, idle: 0, stopped: 0, unknown: 0 },
      exits: [],
      blockers: [],
      sleeps: [],
      migrations: [],
      segments: [],
    };
    trackers.set(tid, { ...start, since: first, report, exitCounts: new Map() });
  }

  const move = (k: Tracker, t: Ns, next: Pick<Tracker, "state" | "cpu" | "label">) => {
    const start = Math.max(k.since, window.start);
    const end = Math.min(t, window.end);
    if (end > start) {
      const seg: Segment = { state: k.state, start, end, ...(k.cpu !== undefined ? { cpu: k.cpu } : {}), ...(k.label !== undefined ? { label: k.label } : {}) };
      const prev = k.report.segments[k.report.segments.length - 1];
      if (prev && prev.end === start && prev.state === seg.state && prev.cpu === seg.cpu && prev.label === seg.label) prev.end = end;
      else k.report.segments.push(seg);
    }
    k.state = next.state;
    k.cpu = next.cpu;
    k.label = next.label;
    k.since = t;
  };

  for (const e of events) {
    const own = trackers.get(e.tid);
    if (own && e.kind === "kvm_entry") {
      if (e.vcpu !== undefined) own.report.vcpu = e.vcpu;
      move(own, e.t, { state: "guest", cpu: e.cpu });
    } else if (own && e.kind === "kvm_exit") {
      own.lastExit = e.reason;
      if (e.t >= window.start) {
        const c = own.exitCounts.get(e.reason) ?? { ns: 0, count: 0 };
        c.count++;
        own.exitCounts.set(e.reason, c);
      }
      move(own, e.t, { state: "exit", cpu: e.cpu, label: e.reason });
    } else if (own && e.kind === "kvm_userspace_exit") {
      // The exit's reason stays the key; the label says its handling went on in the VMM's user space.
      move(own, e.t, { state: "exit", cpu: e.cpu, label: `${own.lastExit ?? "?"}${VMM_SUFFIX}` });
    } else if (e.kind === "sched_switch") {
      const out = trackers.get(e.prevTid);
      if (out) move(out, e.t, switchedOut(e.prevState, e.cpu, out.lastExit));
      const into = trackers.get(e.nextTid);
      if (into) move(into, e.t, { state: "exit", cpu: e.cpu, label: into.lastExit ?? "" });
    } else if (e.kind === "sched_wakeup") {
      const k = trackers.get(e.wakeTid);
      if (k && (k.state === "asleep" || k.state === "idle" || k.state === "stopped" || k.state === "unknown")) move(k, e.t, { state: "runnable", cpu: e.targetCpu });
    } else if (e.kind === "sched_migrate_task") {
      const k = trackers.get(e.taskTid);
      if (k) {
        if (e.t >= window.start) k.report.migrations.push({ t: e.t, from: e.origCpu, to: e.destCpu });
        if (k.state === "runnable") move(k, e.t, { state: "runnable", cpu: e.destCpu, label: k.label });
        else if (k.state === "asleep" || k.state === "idle" || k.state === "stopped") k.cpu = e.destCpu;
      }
    }
  }
  for (const k of trackers.values()) move(k, window.end, { state: k.state });

  const cpuNumbers = new Set<number>();
  for (const k of trackers.values()) for (const s of k.report.segments) if (s.cpu !== undefined && s.state !== "asleep" && s.state !== "idle") cpuNumbers.add(s.cpu);
  const cpus = [...cpuNumbers].sort((a, b) => a - b).map((cpu) => cpuReport(events, cpu, first, window));
  for (const k of trackers.values()) summarise(k, cpus);
  // The trigger's stack trace may be stamped a little after the channel write's record: look past the trip.
  const stacks = trace.events.filter((e): e is Extract<TraceEvent, { kind: "stack" }> => e.kind === "stack" && (meta.tripTid === undefined || e.tid === meta.tripTid));
  const stack = stacks[stacks.length - 1]?.frames;
  return { meta, window, buffer, vcpus: [...trackers.values()].map((k) => k.report), cpus, ...(stack ? { stack } : {}) };
}

function switchedOut(prevState: string, cpu: number, lastExit: string | undefined): Pick<Tracker, "state" | "cpu" | "label"> {
  const letter = prevState[0] ?? "R";
  if (letter === "R") return { state: "runnable", cpu, label: "preempted" };
  if (letter === "T" || letter === "t") return { state: "stopped", cpu, label: letter };
  if (lastExit !== undefined && HALT.test(lastExit)) return { state: "idle", cpu, label: letter };
  return { state: "asleep", cpu, label: letter };
}

/** The VMM's vCPU threads: from the metadata, or every thread that entered a guest. */
function vcpuThreads(trace: ParsedTrace, meta: CaptureMeta): { tid: number; comm: string }[] {
  if (meta.vcpuThreads?.length) return meta.vcpuThreads;
  const seen = new Map<number, string>();
  for (const e of trace.events) if ((e.kind === "kvm_entry" || e.kind === "kvm_exit") && !seen.has(e.tid)) seen.set(e.tid, e.comm);
  return [...seen].map(([tid, comm]) => ({ tid, comm }));
}

function cpuReport(events: TraceEvent[], cpu: number, first: Ns, window: Analysis["window"]): CpuReport {
  const report: CpuReport = { cpu, tasks: [], irqs: [], interrupts: [] };
  let current: { comm: string; tid: number; prio: number; since: Ns } | undefined;
  const open = new Map<string, { name: string; since: Ns }>();
  const clip = (a: Ns, b: Ns) => [Math.max(a, window.start), Math.min(b, window.end)] as const;
  for (const e of events) {
    if (e.cpu !== cpu) continue;
    if (e.kind === "sched_switch") {
      const since = current?.since ?? first;
      const [start, end] = clip(since, e.t);
      if (end > start) report.tasks.push({ start, end, comm: e.prevComm, tid: e.prevTid, prio: e.prevPrio });
      current = { comm: e.nextComm, tid: e.nextTid, prio: e.nextPrio, since: e.t };
    } else if (e.kind === "irq_entry" || e.kind === "softirq_entry") {
      open.set(e.kind === "irq_entry" ? `irq ${e.irq}` : `softirq ${e.vec}`, { name: e.name, since: e.t });
    } else if (e.kind === "irq_exit" || e.kind === "softirq_exit") {
      const key = e.kind === "irq_exit" ? `irq ${e.irq}` : `softirq ${e.vec}`;
      const entry = open.get(key);
      open.delete(key);
      if (!entry) continue;
      const [start, end] = clip(entry.since, e.t);
      if (end < start || e.t < window.start) continue;
      const kind = e.kind === "irq_exit" ? "irq" : "softirq";
      report.interrupts.push({ kind, name: entry.name, start, end });
      const row = report.irqs.find((r) => r.kind === kind && r.name === entry.name) ?? report.irqs[report.irqs.push({ kind, name: entry.name, count: 0, ns: 0 }) - 1]!;
      row.count++;
      row.ns += end - start;
    }
  }
  if (current) {
    const [start, end] = clip(current.since, window.end);
    if (end > start) report.tasks.push({ start, end, comm: current.comm, tid: current.tid, prio: current.prio });
  }
  report.irqs.sort((a, b) => b.ns - a.ns);
  return report;
}

function summarise(k: Tracker, cpus: CpuReport[]): void {
  const r = k.report;
  const exits = new Map<string, { ns: Ns; vmmNs: Ns; count: number }>();
  const sleeps = new Map<string, Ns>();
  const blockers = new Map<string, TaskTime>();
  for (const s of r.segments) {
    const ns = s.end - s.start;
    r.time[s.state] += ns;
    if (s.state === "exit") {
      const inVmm = s.label?.endsWith(VMM_SUFFIX) ?? false;
      const reason = (inVmm ? s.label!.slice(0, -VMM_SUFFIX.length) : s.label) || "(unknown)";
      // An exit begun before the window and still handled in it counts once.
      const row = exits.get(reason) ?? { ns: 0, vmmNs: 0, count: Math.max(1, k.exitCounts.get(reason)?.count ?? 0) };
      row.ns += ns;
      if (inVmm) row.vmmNs += ns;
      exits.set(reason, row);
    } else if (s.state === "asleep" || s.state === "idle") {
      sleeps.set(s.label ?? "?", (sleeps.get(s.label ?? "?") ?? 0) + ns);
    } else if (s.state === "runnable" && s.cpu !== undefined) {
      const tasks = cpus.find((c) => c.cpu === s.cpu)?.tasks ?? [];
      for (let i = firstEndingAfter(tasks, s.start); i < tasks.length && tasks[i]!.start < s.end; i++) {
        const task = tasks[i]!;
        const overlap = Math.min(task.end, s.end) - Math.max(task.start, s.start);
        if (overlap <= 0 || task.tid === r.tid) continue;
        const key = `${task.tid} ${s.cpu}`;
        const row = blockers.get(key) ?? { comm: task.comm, tid: task.tid, prio: task.prio, cpu: s.cpu, ns: 0 };
        row.ns += overlap;
        blockers.set(key, row);
      }
    }
  }
  for (const [reason, { count }] of k.exitCounts) if (!exits.has(reason)) exits.set(reason, { ns: 0, vmmNs: 0, count });
  r.exits = [...exits].map(([reason, v]) => ({ reason, ...v })).sort((a, b) => b.ns - a.ns);
  r.sleeps = [...sleeps].map(([state, ns]) => ({ state, ns })).sort((a, b) => b.ns - a.ns);
  r.blockers = [...blockers.values()].sort((a, b) => b.ns - a.ns);
  r.longestGap = longestGap(r.segments);
}

/** The index of the first of `tasks` (in time order, not overlapping) that ends after `t`. */
function firstEndingAfter(tasks: CpuReport["tasks"], t: Ns): number {
  let lo = 0;
  let hi = tasks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tasks[mid]!.end <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The longest run of segments in which the thread did not run guest code (idle and unknown break it). */
function longestGap(segments: Segment[]): VcpuReport["longestGap"] {
  let best: VcpuReport["longestGap"];
  let run: Segment[] = [];
  const close = () => {
    if (!run.length) return;
    const start = run[0]!.start;
    const end = run[run.length - 1]!.end;
    if (!best || end - start > best.end - best.start) {
      const parts = new Map<string, { state: VcpuState; label?: string; ns: Ns }>();
      for (const s of run) {
        const label = s.state === "exit" ? s.label : undefined;
        const key = `${s.state} ${label ?? ""}`;
        const part = parts.get(key) ?? { state: s.state, ...(label ? { label } : {}), ns: 0 };
        part.ns += s.end - s.start;
        parts.set(key, part);
      }
      best = { start, end, parts: [...parts.values()].sort((a, b) => b.ns - a.ns) };
    }
    run = [];
  };
  for (const s of segments) {
    if (s.state === "guest" || s.state === "idle" || s.state === "unknown" || (run.length && run[run.length - 1]!.end !== s.start)) close();
    if (s.state !== "guest" && s.state !== "idle" && s.state !== "unknown") run.push(s);
  }
  close();
  return best;
}
