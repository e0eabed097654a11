// The planner: checked rules → what a guest trip-wire must do, for any backend.
// It asks each rule's condition what it needs, gathers rules that time the same
// thing into one in-flight table, keeps the rules seen at an event, and lists the capabilities the script needs.
// It knows conditions only through their specs, and no tracer at all.
import { ruleParts, type CheckedFile, type CheckedParam, type CheckedRule } from "../check/checked.js";
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

/** What the script needs beyond its probes; a backend brings in the runtime for each. */
export type Capability =
  /** Tables of things in flight, looked at when one could cross a threshold. */
  | "inflight"
  /** `N times within D` with N > 1: the last N times of a rule. */
  | "counting"
  /** `after D`, or counting: occurrences are checked against the rule's state. */
  | "occurrences"
  /** Thresholds compared at an event (not by the in-flight scan). */
  | "thresholds"
  /** Durations given at run time, parsed when the script starts. */
  | "runtime-durations"
  /** `when A then B within D`: A's part stamps when it held, B's part holds only within D of that. */
  | "sequences"
  /** Searching kernel log lines. */
  | "console-search"
  /** Each CPU's previous tick and idle periods. */
  | "tick-tracking"
  /** Each busy CPU's progress, watched from another CPU. */
  | "vcpu-watch";

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
  capabilities: Set<Capability>;
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

  const capabilities = new Set<Capability>();
  if (timed.length) capabilities.add("inflight");
  if (ringSizes.some((n) => n > 0)) capabilities.add("counting");
  if (file.rules.some((r) => countsOccurrences(r, ringSizes))) capabilities.add("occurrences");
  if (file.rules.some((r) => r.sequence)) capabilities.add("sequences");
  if (events.some((e) => e.rule.threshold)) capabilities.add("thresholds");
  if (runtimeParams.some((p) => p.type === "duration")) capabilities.add("runtime-durations");
  for (const { select } of events) {
    if (select.some((s) => s.kind === "line-contains" || s.kind === "line-number")) capabilities.add("console-search");
    if (select.some((s) => s.kind === "tick-interval-exceeds")) capabilities.add("tick-tracking").add("vcpu-watch");
    if (select.some((s) => s.kind === "progress-watched")) capabilities.add("vcpu-watch");
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
