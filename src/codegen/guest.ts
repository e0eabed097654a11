// The guest emitter: a GuestPlan → the guest SystemTap script. It knows
// SystemTap syntax; what to probe comes from the stdlib entries via the plan.
import type { CheckedParam, CheckedRule, Operand } from "../check/checked.js";
import type { Attribute } from "../stdlib.js";
import { header } from "./header.js";
import type { EventRule, GuestPlan, InflightTable } from "./plan.js";
import { DURATION_PARSER_C, GUEST_RUNTIME_C } from "./guest-runtime.js";
import { REFUSE_C } from "./refuse.js";
import { commentText, hex, stapInt, stapString } from "./stap-syntax.js";

/** The options every guest script needs; the header shows them in its command. */
export const GUEST_STAP_OPTIONS = "-g --suppress-handler-errors -DSTP_NO_OVERLOAD -DMAXSKIPPED=1000000";

const UNSET_INT = "-9223372036854775808";
const UNSET_STRING = '"qtrip:unset"';

/** Cheap tests first: a task's ids are a load, its comm a string compare. */
const ATTRIBUTE_ORDER: Attribute[] = ["pid", "tid", "cpu", "uid", "device"];

function bit(rule: CheckedRule): string {
  return hex(2 ** rule.index);
}

function mask(rules: CheckedRule[]): string {
  return `0x${rules.reduce((m, r) => m | (1n << BigInt(r.index)), 0n).toString(16)}`;
}

function operand(value: Operand<bigint> | Operand<string>): string {
  if (value.kind === "param") return value.name;
  return typeof value.value === "string" ? stapString(value.value) : stapInt(value.value);
}

/** A duration or count as the begin probe sees it: a literal, a global, or the parsed duration. */
function beginValue(value: Operand<bigint> | undefined, fallback: string): string {
  if (!value) return fallback;
  if (value.kind === "const") return stapInt(value.value);
  return value.type === "duration" ? `qt_${value.name}_ns` : value.name;
}

function ruleComment(rule: CheckedRule, indent: string): string[] {
  const lines = rule.source.split("\n").map((l) => commentText(l).trimEnd());
  return [`${indent}# ${commentText(rule.label)}: ${lines[0]}`, ...lines.slice(1).map((l) => `${indent}#   ${l.trim()}`)];
}

/** A rule's filters and extra tests, cheapest first: a task's ids are a load, its comm a string compare. */
function ruleTest(rule: CheckedRule, attributes: Partial<Record<Attribute, string>>, extra: (string | undefined)[]): string | undefined {
  const byAttribute = new Map(rule.filters.map((f) => [f.attribute, f]));
  const test = (attribute: Attribute): string[] => {
    const filter = byAttribute.get(attribute);
    return filter ? [`${attributes[attribute]} == ${operand(filter.value)}`] : [];
  };
  const tests = [...ATTRIBUTE_ORDER.flatMap(test), ...extra.filter((t): t is string => !!t), ...test("comm")];
  return tests.length ? tests.join(" && ") : undefined;
}

/** Everything that runs at one probe point, from every rule that needs it: one handler. */
interface Handler {
  comments: string[];
  body: string[];
}

class Handlers {
  private readonly byProbe = new Map<string, Handler>();
  private readonly preludes = new Map<string, Set<string>>();

  at(probe: string): Handler {
    let handler = this.byProbe.get(probe);
    if (!handler) {
      handler = { comments: [], body: [] };
      this.byProbe.set(probe, handler);
    }
    return handler;
  }

  /** A statement run once per handler, however many rules ask for it. */
  prelude(probe: string, lines: string[]): void {
    const done = this.preludes.get(probe) ?? new Set<string>();
    this.preludes.set(probe, done);
    for (const line of lines) {
      if (done.has(line)) continue;
      done.add(line);
      this.at(probe).body.push(`\t${line}`);
    }
  }

  emit(): string[] {
    return [...this.byProbe].flatMap(([probe, h]) => ["", ...h.comments.map((c) => `# ${c}`), `probe ${probe} {`, ...h.body, "}"]);
  }
}

function tripLines(rule: CheckedRule, indent: string): string[] {
  return [`${indent}qt_trip_rule(${stapString(rule.label)})`, `${indent}next`];
}

function addTable(handlers: Handlers, table: InflightTable): void {
  const { shape } = table;
  for (const stop of shape.stops) {
    const h = handlers.at(stop.probe);
    h.comments.push(`Stop timing (table ${table.index}, ${table.name}): ${stop.reason}.`);
    h.body.push(`\tqt_stop(${table.index}, ${stop.key})`);
  }
  const start = handlers.at(shape.start.probes.join(", "));
  start.comments.push(`Start timing (table ${table.index}, ${table.name}): filters first, then one lock-free table write for the rules that match.`);
  start.body.push("\tqt_rules = 0");
  for (const { rule, codegen } of table.rules) {
    const test = ruleTest(rule, codegen.attributes, [codegen.start.select]);
    start.body.push(...ruleComment(rule, "\t"), test ? `\tif (${test}) qt_rules |= ${bit(rule)}` : `\tqt_rules |= ${bit(rule)}`);
  }
  start.body.push(`\tif (qt_rules) qt_start(${table.index}, ${shape.start.key}, qt_rules)`);
}

function addEvent(handlers: Handlers, { rule, codegen }: EventRule): void {
  for (const helper of codegen.helpers ?? []) {
    if (handlers.at(helper.probe).comments.includes(helper.reason)) continue;
    handlers.at(helper.probe).comments.push(helper.reason);
    handlers.prelude(helper.probe, helper.body);
  }
  handlers.prelude(codegen.probe, codegen.prelude ?? []);
  const h = handlers.at(codegen.probe);
  if (!h.comments.includes("Conditions seen where they happen.")) h.comments.push("Conditions seen where they happen.");
  const condition = codegen.test?.({ exceeds: (value) => `qt_exceeds(${rule.index}, ${value})` });
  // Every filter before the count: counting records an occurrence.
  const filtered = ruleTest(rule, codegen.attributes, [condition]);
  const held = `qt_condition_held(${rule.index}, 1)`;
  const test = filtered ? `${filtered} && ${held}` : held;
  h.body.push(...ruleComment(rule, "\t"), `\tif (${test}) {`, ...tripLines(rule, "\t\t"), "\t}");
}

function emitScan(plan: GuestPlan): string[] {
  if (plan.tables.length === 0) return [];
  const out = [
    "",
    `# Every ${plan.scanPeriodMs} ms, look at what is still in flight: anything past its threshold trips now, not when it ends.`,
    `probe timer.ms(${plan.scanPeriodMs}) {`,
  ];
  for (const table of plan.tables) {
    const late = `qt_late${table.index}`;
    out.push(`\t${late} = qt_scan_table(${table.index}, ${mask(table.rules.map((r) => r.rule))})`);
    for (const { rule } of table.rules) {
      out.push(
        ...ruleComment(rule, "\t"),
        `\tif ((${late} & ${bit(rule)}) && qt_condition_held(${rule.index}, qt_late_count(${rule.index}))) {`,
        ...tripLines(rule, "\t\t"),
        "\t}",
      );
    }
  }
  out.push("}");
  return out;
}

function emitParams(params: CheckedParam[]): string[] {
  if (params.length === 0) return [];
  const out = ["", "# Parameters given when the script starts: stap -G NAME=VALUE. Probes only read them, so SystemTap takes no lock for them."];
  for (const p of params) {
    const hint = p.type === "duration" ? " (a duration, e.g. 200ms)" : "";
    out.push(`global ${p.name} = ${p.type === "int" ? UNSET_INT : UNSET_STRING} # param ${p.name}: ${p.type}${hint}`);
  }
  return out;
}

function usesModuleKprobes(plan: GuestPlan): boolean {
  const probes = [
    ...plan.tables.flatMap((t) => [...t.shape.start.probes, ...t.shape.stops.map((s) => s.probe)]),
    ...plan.events.map((e) => e.codegen.probe),
  ];
  return probes.some((p) => p.includes("kprobe.module("));
}

/** Refuses to arm (see refuse.ts) and leaves the begin probe. */
function refuseIf(condition: string, message: string): string {
  return `\tif (${condition}) {\n\t\tqt_refuse(${message})\n\t\tnext\n\t}`;
}

function emitBegin(plan: GuestPlan): string[] {
  const { file } = plan;
  const out = ["", "probe begin {"];
  for (const p of plan.runtimeParams) {
    const unset = p.type === "int" ? UNSET_INT : UNSET_STRING;
    out.push(refuseIf(`${p.name} == ${unset}`, stapString(`qtrip: parameter '${p.name}' has no value: start the script with -G ${p.name}=VALUE`)));
    if (p.type === "duration") {
      out.push(`\tqt_${p.name}_ns = qt_parse_duration(${p.name})`);
      out.push(refuseIf(`qt_${p.name}_ns < 0`, `${stapString(`qtrip: parameter '${p.name}' is not a duration (e.g. 200ms): `)} . ${p.name}`));
    }
  }
  out.push("\tqt_bind_rings()");
  if (usesModuleKprobes(plan)) out.push("\tqt_kernel_resolves_module_symbols() # before kprobe.module() probes are registered");
  for (const rule of file.rules) {
    const times = rule.count?.times;
    if (times?.kind === "param") {
      out.push(refuseIf(`${times.name} < 1`, stapString(`qtrip: parameter '${times.name}' must be at least 1`)));
    }
    out.push(
      ...ruleComment(rule, "\t"),
      `\tqt_arm_rule(${rule.index}, ${beginValue(rule.threshold?.nanoseconds, "0")}, ${rule.threshold?.op === ">=" ? 1 : 0}, ${beginValue(times, "1")}, ${beginValue(rule.count?.window, "0")}, ${beginValue(rule.after, "0")})`,
    );
  }
  out.push(
    '\tqt_problem = qt_arm()',
    refuseIf('qt_problem != ""', '"qtrip: " . qt_problem'),
    "\tqt_warning = qt_build_warnings()",
    '\tif (qt_warning != "") warn("qtrip: " . qt_warning)',
    `\tqt_log_armed(${file.rules.length}, ${stapString(file.caseId ?? "")})`,
    "}",
  );
  return out;
}

function probeHandlers(plan: GuestPlan): string[] {
  const handlers = new Handlers();
  for (const table of plan.tables) addTable(handlers, table);
  for (const event of plan.events) addEvent(handlers, event);
  return handlers.emit();
}

function emitRings(plan: GuestPlan): string[] {
  const rings = plan.ringSizes.map((size, rule) => ({ size, rule })).filter((r) => r.size > 0);
  const out = ["", "# Timestamps of the last N times each counted rule held (N times within D)."];
  if (rings.length) out.push("%{", ...rings.map((r) => `static u64 qt_ring_${r.rule}[${r.size}];`), "%}");
  out.push("function qt_bind_rings() %{");
  for (const r of rings) out.push(`\tqt_counters[${r.rule}].ring = qt_ring_${r.rule};`, `\tqt_counters[${r.rule}].size = ${r.size};`);
  out.push("%}");
  return out;
}

export interface GuestScriptInput {
  plan: GuestPlan;
  sourceName: string;
  sourceText: string;
  outputName: string;
}

export function emitGuest({ plan, sourceName, sourceText, outputName }: GuestScriptInput): string {
  const { file } = plan;
  const defines = plan.runtimeParams.map((p) => ` -G ${p.name}=VALUE`).join("");
  const ruleLines = file.rules.flatMap((rule) => ruleComment(rule, "  ").map((l) => l.replace(/^ {2}# /, "")));
  const top = header({
    sourceName,
    sourceText,
    file,
    role: `qtrip guest trip-wire${plan.dryRun ? " (DRY RUN: logs the trip, never writes the port)" : ""}`,
    run: [`stap ${GUEST_STAP_OPTIONS}${defines} ${outputName}`],
    body: [
      "Runs inside the guest. Needs the guest kernel's headers, not its debuginfo.\nThe -D options keep SystemTap from stopping the script under load; without them it warns when it starts.",
      `The first rule that holds logs "qtrip: tripped: LABEL" to the kernel log${plan.dryRun ? "" : `, then writes\nbyte ${hex(file.channel.value)} to port ${hex(file.channel.port)} once; the host probe crashes the hypervisor on that write`}.`,
      `Rules:\n${ruleLines.map((l) => `  ${l}`).join("\n")}`,
    ],
  });
  const lines = [
    "%{",
    "/* Sizes and the channel, for the runtime below. */",
    `#define QT_TABLES ${Math.max(1, plan.tables.length)}`,
    `#define QT_RULES ${file.rules.length}`,
    `#define QT_CHANNEL_PORT ${hex(file.channel.port)}`,
    `#define QT_CHANNEL_VALUE ${hex(file.channel.value)}`,
    `#define QT_DRY_RUN ${plan.dryRun ? 1 : 0}`,
    "%}",
    "",
    "# qtrip's guest runtime.",
    GUEST_RUNTIME_C,
    DURATION_PARSER_C,
    REFUSE_C,
    ...emitRings(plan),
    ...emitParams(plan.runtimeParams),
    ...emitBegin(plan),
    ...probeHandlers(plan),
    ...emitScan(plan),
    "",
    "probe end {",
    "\tqt_untracked = qt_untracked_count()",
    '\tif (qt_untracked) printf("qtrip: %d starts were not timed: the in-flight table was full (raise -DQT_INFLIGHT_SLOTS)\\n", qt_untracked)',
    "\tqt_dropped = qt_dropped_count()",
    '\tif (qt_dropped) printf("qtrip: %d occurrences were not counted (lock contention)\\n", qt_dropped)',
    "}",
  ];
  return `${top}\n${lines.join("\n")}\n`;
}
