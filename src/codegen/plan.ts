// The planner: checked rules → what the guest script must contain. It groups
// rules that share probe points so that each probe has one handler, assigns
// each rule its bit, and decides the scan period. It knows conditions only
// through their stdlib entries, and SystemTap not at all.
import type { CheckedFile, CheckedParam, CheckedRule } from "../check/checked.js";
import type { InflightCodegen } from "../stdlib.js";

export interface InflightTable {
  /** Index of the table in the guest runtime. */
  index: number;
  codegen: InflightCodegen;
  rules: CheckedRule[];
}

export interface GuestPlan {
  file: CheckedFile;
  tables: InflightTable[];
  /** How often the in-flight tables are scanned, in milliseconds. */
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

export function planGuest(file: CheckedFile, options: { dryRun: boolean }): GuestPlan {
  const tables = new Map<string, InflightTable>();
  for (const rule of file.rules) {
    const codegen = rule.entry.codegen!;
    const table = tables.get(codegen.table) ?? { index: tables.size, codegen, rules: [] };
    table.rules.push(rule);
    tables.set(codegen.table, table);
  }

  let scanPeriodMs = SCAN_PERIOD_MAX_MS;
  for (const rule of file.rules) {
    const threshold = rule.threshold?.nanoseconds;
    if (!threshold) continue;
    const periodMs =
      threshold.kind === "param"
        ? SCAN_PERIOD_RUNTIME_MS
        : Math.max(SCAN_PERIOD_MIN_MS, Math.min(SCAN_PERIOD_MAX_MS, Math.floor(Number(threshold.value / 1_000_000n) / 10)));
    scanPeriodMs = Math.min(scanPeriodMs, periodMs);
  }

  const ringSizes = file.rules.map((rule) => {
    const times = rule.count?.times;
    if (!times) return 0;
    if (times.kind === "param") return RUNTIME_MAX_TIMES;
    return times.value > 1n ? Number(times.value) : 0;
  });

  const runtimeParams = file.params.filter((p) => p.source === "runtime");
  return { file, tables: [...tables.values()], scanPeriodMs, runtimeParams, ringSizes, dryRun: options.dryRun };
}
