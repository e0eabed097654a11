// The planner: checked rules → what the guest script must contain. It asks each
// rule's stdlib entry for its probes, groups rules that share a table or a probe
// point so that each probe point gets one handler, and decides the scan period.
// It knows conditions only through their stdlib entries, and SystemTap not at all.
import type { CheckedFile, CheckedParam, CheckedRule } from "../check/checked.js";
import type { EventCodegen, InflightCodegen } from "../stdlib.js";

export interface TimedRule {
  rule: CheckedRule;
  codegen: InflightCodegen;
}

export interface InflightTable {
  /** Index of the table in the guest runtime. */
  index: number;
  name: string;
  /** Start and stop probes: the same for every rule of the table. */
  shape: InflightCodegen;
  rules: TimedRule[];
}

export interface EventRule {
  rule: CheckedRule;
  codegen: EventCodegen;
}

export interface GuestPlan {
  file: CheckedFile;
  tables: InflightTable[];
  events: EventRule[];
  /** How often the in-flight tables are scanned, in milliseconds (0: no tables). */
  scanPeriodMs: number;
  /** Parameters given at run time (`stap -G`): read-only globals, which SystemTap reads without locks. */
  runtimeParams: CheckedParam[];
  /** Ring capacity per rule for `N times within D` (0 when the rule has no count). */
  ringSizes: number[];
  dryRun: boolean;
}

/** Largest N of `N times within D` when N is a run-time parameter. */
export const RUNTIME_MAX_TIMES = 1024;
/** The scan looks about ten times per threshold, every 1 to 10 ms. */
const SCAN_PERIOD_MIN_MS = 1;
const SCAN_PERIOD_MAX_MS = 10;
const SCAN_PERIOD_RUNTIME_MS = 5;

function scanPeriodFor(rule: CheckedRule): number {
  const threshold = rule.threshold?.nanoseconds;
  if (!threshold) return SCAN_PERIOD_MAX_MS;
  if (threshold.kind === "param") return SCAN_PERIOD_RUNTIME_MS;
  const tenth = Math.floor(Number(threshold.value / 1_000_000n) / 10);
  return Math.max(SCAN_PERIOD_MIN_MS, Math.min(SCAN_PERIOD_MAX_MS, tenth));
}

export function planGuest(file: CheckedFile, options: { dryRun: boolean }): GuestPlan {
  const tables = new Map<string, InflightTable>();
  const events: EventRule[] = [];
  for (const rule of file.rules) {
    const codegen = rule.entry.codegen(rule.args);
    if (codegen.kind === "event") {
      events.push({ rule, codegen });
      continue;
    }
    const table = tables.get(codegen.table) ?? { index: tables.size, name: codegen.table, shape: codegen, rules: [] };
    table.rules.push({ rule, codegen });
    tables.set(codegen.table, table);
  }
  const timed = [...tables.values()].flatMap((t) => t.rules.map((r) => r.rule));
  const scanPeriodMs = timed.length ? Math.min(...timed.map(scanPeriodFor)) : 0;

  const ringSizes = file.rules.map((rule) => {
    const times = rule.count?.times;
    if (!times) return 0;
    if (times.kind === "param") return RUNTIME_MAX_TIMES;
    return times.value > 1n ? Number(times.value) : 0;
  });

  const runtimeParams = file.params.filter((p) => p.source === "runtime");
  return { file, tables: [...tables.values()], events, scanPeriodMs, runtimeParams, ringSizes, dryRun: options.dryRun };
}
