// `qtrip explain`: each rule in plain words, for a reviewer who does not read
// SystemTap — what it watches, where and how often it probes, what the filters
// and modifiers do, when it trips, and what the host does then.
import type { CheckedFile, CheckedRule, Operand } from "../check/checked.js";
import { planStage, type HostOptions } from "../compile.js";
import { GUEST_BACKEND } from "../codegen/guest-backend.js";
import { hex } from "../codegen/stap/syntax.js";
import { WARNINGS } from "../diagnostics/warnings.js";
import { ATTRIBUTES } from "../../stdlib/index.js";
export function formatNanoseconds(ns: bigint): string {
  const units: [bigint, string][] = [
    [3_600_000_000_000n, "h"],
    [60_000_000_000n, "min"],
    [1_000_000_000n, "s"],
    [1_000_000n, "ms"],
    [1_000n, "µs"],
  ];
  for (const [size, unit] of units) if (ns >= size && ns % size === 0n) return `${ns / size} ${unit}`;
  for (const [size, unit] of units) if (ns >= size) return `${(Number(ns) / Number(size)).toFixed(3).replace(/0+$/, "")} ${unit}`;
  return `${ns} ns`;
}

function describe(value: Operand<bigint> | Operand<string>, duration = false): string {
  if (value.kind === "param") return `$${value.name} (given with -G ${value.name}=… when the guest script starts)`;
  if (typeof value.value === "string") return JSON.stringify(value.value);
  return duration ? formatNanoseconds(value.value) : value.value.toString();
}

/** When the part's condition holds: as it happens, or for a latency, the moment one crosses its threshold. */
function holds(rule: CheckedRule, inflight: boolean): string {
  const { threshold, reading } = rule;
  let limit = threshold ? `${threshold.op === ">=" ? "at least" : "longer than"} ${describe(threshold.nanoseconds, true)}` : "";
  const share = rule.args.share;
  if (share && threshold) limit = `${share.inclusive ? "at least" : "above"} ${share.percent}% of the last ${describe(threshold.nanoseconds, true)}`;
  if (reading) {
    const unit = reading.unitNs === undefined ? "" : ` (the line's number read in ${formatNanoseconds(reading.unitNs).replace(/^1 /, "")})`;
    limit = `${reading.op === ">=" ? "at least" : "above"} ${describe(reading.value, reading.unitNs !== undefined)}${unit}`;
  }
  if (inflight) return `when one has lasted ${limit}, seen while it still lasts (checked the moment it could have)`;
  return rule.entry.tripsWhen ? rule.entry.tripsWhen(limit) : "when it happens";
}

function trips(rule: CheckedRule, inflight: boolean): string {
  const window = rule.sequence
    ? `, if that moment falls within ${describe(rule.sequence.within, true)} after the latest time the first condition held`
    : "";
  const count = rule.count
    ? `, once this has happened ${describe(rule.count.times)} times within ${describe(rule.count.window, true)}${rule.sequence ? " (counting only those in a window)" : ""}`
    : ", the first time";
  const after = rule.after ? `; nothing counts during the first ${describe(rule.after, true)} after the guest script starts` : "";
  const pauses = rule.countsPauses ? "; the hypervisor's pauses of the whole guest count in its durations (the last 16 in each, at most)" : "";
  return `${holds(rule, inflight)}${window}${count}${after}${pauses}`;
}

export interface ExplainOptions extends HostOptions {
  fileName: string;
  dryRun: boolean;
}

export function explain(file: CheckedFile, options: ExplainOptions): string {
  const { guest: plan, host: hostPlan, hostBackend } = planStage(file, { name: options.fileName, text: "" }, options);
  const tableOf = new Map(plan.tables.flatMap((t) => t.rules.map((r) => [r.rule, t] as const)));
  // The probe points this rule's script really uses.
  const probes = GUEST_BACKEND.probePoints(plan, GUEST_BACKEND.kernels);
  const out: string[] = [];
  out.push(
    `${options.fileName}: ${file.rules.length} rule${file.rules.length === 1 ? "" : "s"}` +
      `${file.caseId !== undefined ? `, case ${JSON.stringify(file.caseId)}` : ""}${file.title !== undefined ? ` (${file.title})` : ""}.`,
    "The guest script trips on the first rule that holds, once.",
    "",
  );
  // What a part watches, where it probes and what it costs (`head`); how it stops timing, its caveats (`tail`).
  const part = (rule: CheckedRule, watches: string) => {
    const table = tableOf.get(rule);
    const filters = rule.filters.map((f) => `${ATTRIBUTES[f.attribute].words} ${describe(f.value)}`);
    return {
      head: [
        `  ${watches} ${rule.entry.watches(rule.args)}${filters.length ? `, only for ${filters.join(" and ")}` : ", anywhere in the guest"}.`,
        `  Probes: ${probes.get(rule.index)!.probes.join(", ")}.`,
        `  Cost: ${rule.entry.cost.class}: ${rule.entry.cost.detail}.`,
      ],
      tail: [
        ...(table ? [`  Stops timing one when ${table.stops.map((s) => s.reason).join("; ")}.`] : []),
        ...(rule.entry.caveats.length ? [`  Caveats: ${rule.entry.caveats.join("; ")}.`] : []),
      ],
    };
  };
  for (const rule of file.rules) {
    const first = rule.sequence?.first;
    const opening = first
      ? [
          `  A sequence: the second condition counts only within ${describe(rule.sequence!.within, true)} after the first; each time the first holds, the window starts again.`,
          ...part(first, "First, watches").head,
          `  The first holds ${holds(first, tableOf.has(first))}: it opens the window, it never trips by itself.`,
          ...part(first, "").tail,
        ]
      : [];
    const own = part(rule, first ? "Then, watches" : "Watches");
    out.push(
      `${rule.label}:`,
      `  ${rule.source.replace(/\s*\n\s*/g, " ")}`,
      ...opening,
      ...own.head,
      `  Trips ${trips(rule, tableOf.has(rule))}.`,
      ...own.tail,
      ...(rule.allows ? [`  Allows ${rule.allows.map((c) => `${c} (${WARNINGS[c]})`).join(", ")}: qtrip check does not warn about ${rule.allows.length === 1 ? "it" : "them"} for this rule.`] : []),
      "",
    );
  }
  const { port, value } = file.channel;
  out.push(
    options.dryRun
      ? `On a trip the guest logs "qtrip: tripped: LABEL" and writes nothing (dry run): the host is not told.`
      : `On a trip the guest puts "qtrip: tripped: LABEL" in its kernel log and writes byte ${hex(value)} to I/O port ${hex(port)} at once; the consoles print the line afterwards, so a busy console cannot delay the write.`,
    ...hostBackend.explain(hostPlan),
  );
  if (plan.runtimeParams.length) {
    out.push(`Start the guest script with ${plan.runtimeParams.map((p) => `-G ${p.name}=…`).join(" ")}.`);
  }
  return `${out.join("\n")}\n`;
}
