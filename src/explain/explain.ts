// `qtrip explain`: each rule in plain words, for a reviewer who does not read
// SystemTap — what it watches, where and how often it probes, what the filters
// and modifiers do, when it trips, and what the host does then.
import type { CheckedFile, CheckedRule, Operand } from "../check/checked.js";
import { planHostSide, type HostOptions } from "../compile.js";
import { probePoints, SUPPORTED_KERNELS } from "../codegen/stap/index.js";
import { hex } from "../codegen/stap/syntax.js";
import { WARNINGS } from "../diagnostics/warnings.js";
import { planGuest } from "../plan/plan.js";
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

function trips(rule: CheckedRule, inflight: boolean): string {
  const { threshold, reading } = rule;
  let limit = threshold ? `${threshold.op === ">=" ? "at least" : "longer than"} ${describe(threshold.nanoseconds, true)}` : "";
  if (reading) {
    const unit = reading.unitNs === undefined ? "" : ` (the line's number read in ${formatNanoseconds(reading.unitNs).replace(/^1 /, "")})`;
    limit = `${reading.op === ">=" ? "at least" : "above"} ${describe(reading.value, reading.unitNs !== undefined)}${unit}`;
  }
  let when: string;
  if (inflight) when = `when one has lasted ${limit}, seen while it still lasts (checked the moment it could have)`;
  else if (rule.entry.tripsWhen) when = rule.entry.tripsWhen(limit);
  else when = "when it happens";
  const count = rule.count ? `, once this has happened ${describe(rule.count.times)} times within ${describe(rule.count.window, true)}` : ", the first time";
  const after = rule.after ? `; nothing counts during the first ${describe(rule.after, true)} after the guest script starts` : "";
  return `${when}${count}${after}`;
}

export interface ExplainOptions extends HostOptions {
  fileName: string;
  dryRun: boolean;
}

export function explain(file: CheckedFile, options: ExplainOptions): string {
  const plan = planGuest(file, { dryRun: options.dryRun });
  const tableOf = new Map(plan.tables.flatMap((t) => t.rules.map((r) => [r.rule, t] as const)));
  // The probe points this rule's script really uses.
  const probes = probePoints(plan, SUPPORTED_KERNELS);
  const out: string[] = [];
  out.push(
    `${options.fileName}: ${file.rules.length} rule${file.rules.length === 1 ? "" : "s"}` +
      `${file.caseId !== undefined ? `, case ${JSON.stringify(file.caseId)}` : ""}${file.title !== undefined ? ` (${file.title})` : ""}.`,
    "The guest script trips on the first rule that holds, once.",
    "",
  );
  for (const rule of file.rules) {
    const table = tableOf.get(rule);
    const filters = rule.filters.map((f) => `${ATTRIBUTES[f.attribute].words} ${describe(f.value)}`);
    out.push(
      `${rule.label}:`,
      `  ${rule.source.replace(/\s*\n\s*/g, " ")}`,
      `  Watches ${rule.entry.watches(rule.args)}${filters.length ? `, only for ${filters.join(" and ")}` : ", anywhere in the guest"}.`,
      `  Probes: ${probes.get(rule.index)!.probes.join(", ")}.`,
      `  Cost: ${rule.entry.cost.class}: ${rule.entry.cost.detail}.`,
      `  Trips ${trips(rule, table !== undefined)}.`,
      ...(table ? [`  Stops timing one when ${table.stops.map((s) => s.reason).join("; ")}.`] : []),
      ...(rule.entry.caveats.length ? [`  Caveats: ${rule.entry.caveats.join("; ")}.`] : []),
      ...(rule.allows ? [`  Allows ${rule.allows.map((c) => `${c} (${WARNINGS[c]})`).join(", ")}: qtrip check does not warn about ${rule.allows.length === 1 ? "it" : "them"} for this rule.`] : []),
      "",
    );
  }
  const { port, value } = file.channel;
  const host = planHostSide(file, { name: options.fileName, text: "" }, options);
  out.push(
    options.dryRun
      ? `On a trip the guest logs "qtrip: tripped: LABEL" and writes nothing (dry run): the host is not told.`
      : `On a trip the guest puts "qtrip: tripped: LABEL" in its kernel log and writes byte ${hex(value)} to I/O port ${hex(port)} at once; the consoles print the line afterwards, so a busy console cannot delay the write.`,
    ...host.backend.explain(host.plan),
  );
  if (plan.runtimeParams.length) {
    out.push(`Start the guest script with ${plan.runtimeParams.map((p) => `-G ${p.name}=…`).join(" ")}.`);
  }
  return `${out.join("\n")}\n`;
}
