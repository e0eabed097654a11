// The report as text: the verdict first (one line for the ticket), then the evidence.
import type { CpuReport, VcpuReport } from "./analyse.js";
import type { Ns } from "./events.js";
import type { Report } from "./report.js";
import { ms, priority, vcpuName } from "./verdict.js";

const pct = (ns: Ns, of: Ns) => `${of > 0 ? Math.round((100 * ns) / of) : 0}%`;

/** A time relative to the trip, as the evidence shows it ("-183.2 ms"). */
function at(report: Report, t: Ns): string {
  return `-${((report.window.end - t) / 1e6).toFixed(1)} ms`;
}

function seconds(t: Ns): string {
  return (t / 1e9).toFixed(6);
}

function header(r: Report): string[] {
  const m = r.meta;
  const what = [m.case ? `case '${m.case}'` : undefined, m.title].filter(Boolean).join(": ");
  const lines = [
    `${what ? `${what}; ` : ""}trip at ${seconds(m.tripTime)} s${m.tripTid !== undefined ? ` in tid ${m.tripTid}` : ""}${m.vmmPid !== undefined ? `, VMM pid ${m.vmmPid}` : ""}${m.hostKernel ? `, host ${m.hostKernel}` : ""}`,
    `window: the ${ms(r.window.ns)} before the trip (${r.window.source === "threshold" ? `the rule's threshold ${ms(m.thresholdNs!)} + 10%` : r.window.source === "option" ? "--window" : "1 s: the capture gives no threshold"}), ${seconds(r.window.start)} to ${seconds(r.window.end)} s`,
  ];
  if (m.tripMissing) lines.push("warning: the capture has no record of the channel write (overwritten?): the window ends at the buffer's last record");
  const b = r.buffer;
  const entries = b.entries ? `; the kernel kept ${b.entries.inBuffer} of ${b.entries.written} entries written` : "";
  lines.push(`buffer: ${b.events} records from ${seconds(b.first)} to ${seconds(b.last)} s${entries}`);
  if (b.wrapped) lines.push(`warning: the buffer wrapped: its first record is ${ms(b.missingNs)} after the window's start, so ${pct(b.missingNs, r.window.ns)} of the window is missing (a larger buffer_size_kb keeps it)`);
  return lines;
}

function vcpuLines(r: Report, v: VcpuReport): string[] {
  const w = r.window.ns;
  const row = (name: string, ns: Ns, detail = "") => `  ${name.padEnd(18)}${ms(ns).padStart(10)} ${pct(ns, w).padStart(4)}${detail ? `   ${detail}` : ""}`;
  const out = [`${vcpuName(v)}${v.tid === r.meta.tripTid ? ", the thread that tripped" : ""}`];
  out.push(row("in the guest", v.time.guest));
  out.push(row("in exits", v.time.exit, v.exits.slice(0, 6).map((e) => `${e.reason} ${ms(e.ns)} (×${e.count}${e.vmmNs ? `, ${ms(e.vmmNs)} of it in the VMM` : ""})`).join(", ")));
  if (v.time.runnable || v.blockers.length) {
    out.push(row("runnable", v.time.runnable, v.blockers.length ? "waiting behind:" : ""));
    for (const b of v.blockers.slice(0, 6)) out.push(`      ${b.comm} (tid ${b.tid}, ${priority(b.prio)}) on CPU ${b.cpu}: ${ms(b.ns)}`);
  }
  if (v.time.asleep) out.push(row("asleep in the host", v.time.asleep, v.sleeps.filter((s) => s.ns > 0).map((s) => `state ${s.state} ${ms(s.ns)}`).join(", ")));
  if (v.time.idle) out.push(row("idle (guest hlt)", v.time.idle));
  if (v.time.stopped) out.push(row("stopped", v.time.stopped, "SIGSTOP or a debugger"));
  if (v.time.unknown) out.push(row("not in the buffer", v.time.unknown));
  out.push(
    `  migrations: ${v.migrations.length ? v.migrations.map((m) => `CPU ${m.from} → ${m.to} at ${at(r, m.t)}`).join(", ") : "none"}`,
  );
  const g = v.longestGap;
  if (g) {
    out.push(`  longest stretch without guest code: ${ms(g.end - g.start)}, from ${at(r, g.start)} to ${at(r, g.end)}: ${g.parts.map((p) => `${p.state}${p.label ? ` ${p.label}` : ""} ${ms(p.ns)}`).join(", ")}`);
  }
  return out;
}

function cpuLines(c: CpuReport): string[] {
  const byTask = new Map<string, { comm: string; tid: number; prio: number; ns: Ns }>();
  for (const t of c.tasks) {
    const row = byTask.get(`${t.tid}`) ?? { comm: t.comm, tid: t.tid, prio: t.prio, ns: 0 };
    row.ns += t.end - t.start;
    byTask.set(`${t.tid}`, row);
  }
  const tasks = [...byTask.values()].sort((a, b) => b.ns - a.ns).slice(0, 6);
  const irqs = c.irqs.slice(0, 6).map((i) => `${i.kind} ${i.name} ×${i.count} ${ms(i.ns)}`);
  return [
    `host CPU ${c.cpu}: ${tasks.map((t) => `${t.comm} (tid ${t.tid}, ${priority(t.prio)}) ${ms(t.ns)}`).join(", ") || "no task switch in the window"}`,
    `  interrupts: ${irqs.join(", ") || "none recorded (enable the irq events to see them)"}`,
  ];
}

export function renderText(r: Report): string {
  const lines = [r.verdict.line, "", ...header(r), ""];
  for (const v of r.vcpus) lines.push(...vcpuLines(r, v), "");
  for (const c of r.cpus) lines.push(...cpuLines(c));
  if (r.stack) lines.push("", "the freeze's stack trace (the tripping thread):", ...r.stack.map((f) => `  ${f}`));
  return `${lines.join("\n").trimEnd()}\n`;
}
