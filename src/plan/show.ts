// The plan as `qtrip compile --emit plan` prints it: stable, readable JSON of
// what the planner decided, before any backend writes a script. Parts are
// named by index (their bit in the guest script), durations are nanoseconds
// as decimal strings (JSON numbers lose precision past 2^53), a run-time
// parameter is {"param": NAME}, places are LINE:COLUMN, the channel in hex.
import type { CheckedRule, Operand } from "../check/checked.js";
import type { Span } from "../diagnostics/diagnostic.js";
import type { HostPlan } from "./host.js";
import type { GuestPlan } from "./plan.js";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function operand(value: Operand<bigint> | Operand<string>): Json {
  if (value.kind === "param") return { param: value.name };
  return typeof value.value === "bigint" ? value.value.toString() : value.value;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const at = (span: Span) => `${span.start.line}:${span.start.column}`;

/** Plain data (events, selections, stops) as JSON: bigints as decimal strings, no undefined. */
function data(value: unknown): Json {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Json;
}

function part(rule: CheckedRule): Json {
  const { threshold, reading, count, after, countsPauses, sequence, allows } = rule;
  return {
    index: rule.index,
    label: rule.label,
    at: at(rule.span),
    condition: rule.entry.id,
    // The names as written; their numbers are in the tests (select) that use them.
    args: { ...Object.fromEntries(Object.entries(rule.args.names).map(([arg, names]) => [arg, names.map((n) => n.name)])), ...rule.args.strings },
    ...(threshold ? { threshold: { op: threshold.op, ns: operand(threshold.nanoseconds) } } : {}),
    ...(reading ? { reading: { op: reading.op, value: operand(reading.value), ...(reading.unitNs !== undefined ? { unitNs: reading.unitNs.toString() } : {}) } } : {}),
    filters: rule.filters.map((f) => ({ attribute: f.attribute, value: operand(f.value) })),
    ...(count ? { count: { times: operand(count.times), windowNs: operand(count.window) } } : {}),
    ...(after ? { afterNs: operand(after) } : {}),
    // Only where the rule says `counting pauses`: the default leaves the plan as it was.
    ...(countsPauses ? { countsPauses } : {}),
    ...(sequence ? { sequence: { first: sequence.first.index, withinNs: operand(sequence.within) } } : {}),
    ...(allows ? { allows } : {}),
  };
}

export function guestPlanJson(plan: GuestPlan): Json {
  return {
    dryRun: plan.dryRun,
    parts: plan.parts.map(part),
    tables: plan.tables.map((t) => ({
      index: t.index,
      name: t.name,
      start: data(t.start),
      stops: data(t.stops),
      rules: t.rules.map((r) => ({ part: r.rule.index, select: data(r.select) })),
    })),
    events: plan.events.map((e) => ({ part: e.rule.index, at: data(e.at), select: data(e.select) })),
    runtimeParams: plan.runtimeParams.map((p) => ({ name: p.name, type: p.type })),
    ringSizes: plan.ringSizes,
    capabilities: Object.fromEntries([...plan.capabilities].map(([c, span]) => [c, at(span)])),
  };
}

/** The host plan without the rule file's text (the script's header carries its hash). */
export function hostPlanJson(plan: HostPlan, backend: string): Json {
  const { channel, thresholdNs } = plan;
  return data({
    backend,
    ...plan,
    channel: { port: hex(channel.port), value: hex(channel.value) },
    ...(thresholdNs !== undefined ? { thresholdNs } : {}),
    source: plan.source.name,
  });
}
