// The planner: checked rules → what a guest trip-wire must do, for any backend.
// It asks each rule's condition what it needs, gathers rules that time the same
// thing into one in-flight table, keeps the rules seen at an event, and lists the capabilities the script needs.
// It knows conditions only through their specs, and no tracer at all.
import { ruleParts, type CheckedFile, type CheckedParam, type CheckedRule } from "../check/checked.js";
import { error, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type { EventNeeds, GuestEvent, InflightNeeds, Selection } from "../../stdlib/index.js";

/** Rules timing the same thing: one start, the same stops, one table. */
export interface InflightTable {
  index: number;
  name: string;
  start: GuestEvent;
  stops: InflightNeeds["stops"];
  /** Each rule with the tests its start event applies (beyond its filters). */
  rules: { rule: CheckedRule; select: Selection[] }[];
}

/** A rule seen where its event happens. */
export interface EventRule {
  rule: CheckedRule;
  at: GuestEvent;
  select: Selection[];
}

/** What the script needs beyond its probes, in words (a diagnostic's); a backend brings in the runtime for each. */
export const CAPABILITIES = {
  inflight: "tables of things in flight, looked at when one could cross a threshold",
  counting: "`N times within D` with N > 1: the last N times of a rule",
  occurrences: "`after D`, or counting: occurrences checked against the rule's state",
  thresholds: "thresholds compared where an event happens (not by the in-flight scan)",
  "runtime-durations": "durations given when the script starts, parsed then",
  sequences: "`when A then B within D`: A stamps when it held, B holds only within D of that",
  "console-search": "searching kernel log lines",
  "tick-tracking": "each CPU's previous tick and idle periods",
  "vcpu-watch": "each busy CPU's progress, watched from another CPU",
} as const;
export type Capability = keyof typeof CAPABILITIES;

/** A guest backend as the plan sees it: the contract is that it supports every capability a plan it is given needs. */
export interface GuestCapabilities {
  name: string;
  capabilities: ReadonlySet<Capability>;
}

export interface GuestPlan {
  file: CheckedFile;
  /** What the script watches, by index: the rules, then each sequence's first condition (ruleParts). */
  parts: CheckedRule[];
  tables: InflightTable[];
  events: EventRule[];
  /** Parameters given when the script starts: the script only reads them. */
  runtimeParams: CheckedParam[];
  /** Ring capacity per part for `N times within D` (0 when the rule does not count). */
  ringSizes: number[];
  /** Each capability the script needs, with where the file first needs it (a rule, or a parameter's declaration). */
  capabilities: Map<Capability, Span>;
  dryRun: boolean;
}

/** Largest N of `N times within D` when N is a run-time parameter. */
export const RUNTIME_MAX_TIMES = 1024;
function ringSize(rule: CheckedRule): number {
  const times = rule.count?.times;
  if (!times) return 0;
  if (times.kind === "param") return RUNTIME_MAX_TIMES;
  return times.value > 1n ? Number(times.value) : 0;
}

/** Whether a rule's occurrences must go through the counting state (`after`, `N times`), or trip when seen. */
export function countsOccurrences(rule: CheckedRule, ringSizes: number[]): boolean {
  return rule.after !== undefined || ringSizes[rule.index] > 0;
}

export function planGuest(file: CheckedFile, options: { dryRun: boolean }): GuestPlan {
  const tables = new Map<string, InflightTable>();
  const events: EventRule[] = [];
  const parts = ruleParts(file);
  for (const rule of parts) {
    const needs = rule.entry.needs(rule.args);
    if (needs.kind === "event") {
      events.push(eventRule(rule, needs));
      continue;
    }
    const { select = [], ...start } = needs.start;
    const table = tables.get(needs.table) ?? { index: tables.size, name: needs.table, start, stops: needs.stops, rules: [] };
    table.rules.push({ rule, select });
    tables.set(needs.table, table);
  }
  const timed = [...tables.values()].flatMap((t) => t.rules.map((r) => r.rule));
  const ringSizes = parts.map(ringSize);
  const runtimeParams = file.params.filter((p) => p.source === "runtime");

  const capabilities = new Map<Capability, Span>();
  const need = (capability: Capability, span: Span) => {
    if (!capabilities.has(capability)) capabilities.set(capability, span);
  };
  if (timed.length) need("inflight", timed[0].span);
  for (const rule of parts) if (ringSizes[rule.index] > 0) need("counting", rule.span);
  for (const rule of file.rules) {
    if (countsOccurrences(rule, ringSizes)) need("occurrences", rule.span);
    if (rule.sequence) need("sequences", rule.span);
  }
  for (const { rule } of events) if (rule.threshold) need("thresholds", rule.span);
  for (const p of runtimeParams) if (p.type === "duration") need("runtime-durations", p.span);
  for (const { rule, select } of events) {
    if (select.some((s) => s.kind === "line-contains" || s.kind === "line-number")) need("console-search", rule.span);
    if (select.some((s) => s.kind === "tick-interval-exceeds")) need("tick-tracking", rule.span);
    if (select.some((s) => s.kind === "tick-interval-exceeds" || s.kind === "progress-watched")) need("vcpu-watch", rule.span);
  }

  return {
    file,
    parts,
    tables: [...tables.values()],
    events,
    runtimeParams,
    ringSizes,
    capabilities,
    dryRun: options.dryRun,
  };
}

function eventRule(rule: CheckedRule, needs: EventNeeds): EventRule {
  return { rule, at: needs.at, select: needs.select ?? [] };
}

/** The contract: an error for each capability the plan needs that the backend lacks, where the file first needs it. */
export function capabilityDiagnostics(plan: GuestPlan, backend: GuestCapabilities): Diagnostic[] {
  return [...plan.capabilities]
    .filter(([capability]) => !backend.capabilities.has(capability))
    .map(([capability, span]) =>
      error("E0149", span, `the ${backend.name} guest backend cannot do what this needs: ${CAPABILITIES[capability]} (${capability})`, {
        notes: [`the ${backend.name} backend supports: ${[...backend.capabilities].join(", ") || "none of the capabilities"}`],
      }),
    );
}
