// The guest emitter: a GuestPlan → the guest SystemTap script. It lowers each
// event through the lowering table, each test through the selections, and
// carries only the fragments its rules use. It knows SystemTap, not
// conditions.
import type { CheckedParam, CheckedRule, Operand } from "../../check/checked.js";
import { type EventRule, type GuestPlan, type InflightTable } from "../../plan/plan.js";
import type { GuestScriptInput } from "../guest-backend.js";
import { emitFragments, type Fragment } from "./fragment.js";
import { Handlers, bit, ruleComment, ruleTest, threadIdTest } from "./handlers.js";
import { header } from "./header.js";
import type { KernelRange } from "./kernel.js";
import { lower } from "./lowering.js";
import { GUEST_STAP_OPTIONS } from "./options.js";
import { launcherName } from "./launcher.js";
import { countAtEvent, counting } from "./fragments/counting.js";
import { core, delays, readyAtEvent, runtimeThresholds, tripRule } from "./fragments/core.js";
import { inflight, startAtEvent } from "./fragments/inflight.js";
import { moduleSymbols, noUprobes } from "./fragments/kernel-facts.js";
import { durations, refuse } from "./fragments/refuse.js";
import { returnProbes } from "./fragments/return-probes.js";
import { scanTimer } from "./fragments/scan-timer.js";
import { sequenceAtEvent, sequences } from "./fragments/sequences.js";
import { stealShare } from "./fragments/steal.js";
import { vcpuWatch } from "./fragments/vcpu-watch.js";
import { lowerSelection } from "./selections.js";
import { shellWord } from "../shell.js";
import { commentText, hex, stapInt, stapString } from "./syntax.js";

const UNSET_INT = "-9223372036854775808";
const UNSET_STRING = '"qtrip:unset"';

/** A duration or count as the begin probe sees it: a literal, a global, or the parsed duration. */
function beginValue(value: Operand<bigint>): string {
  if (value.kind === "const") return stapInt(value.value);
  return value.type === "duration" ? `qt_${value.name}_ns` : value.name;
}

/** Bit r for each part. */
function mask(parts: CheckedRule[]): bigint {
  return parts.reduce((m, r) => m | (1n << BigInt(r.index)), 0n);
}

/** What the script is being built from: the handlers, and the fragments they use. */
class GuestScript {
  readonly handlers = new Handlers();
  readonly fragments = new Set<Fragment>();
  /** The sequences' parts (both conditions of each), their fragment and its door for handlers; absent without sequences. */
  readonly sequences?: { parts: bigint; firsts: bigint; fragment: Fragment; atEvent: Fragment };

  constructor(
    readonly plan: GuestPlan,
    readonly kernel: KernelRange,
  ) {
    const seconds = plan.file.rules.filter((r) => r.sequence);
    if (seconds.length === 0) return;
    const firsts = mask(seconds.map((r) => r.sequence!.first));
    const fragment = sequences({ firsts });
    this.sequences = { parts: firsts | mask(seconds), firsts, fragment, atEvent: sequenceAtEvent(fragment) };
  }

  /** Whether part r is a sequence's first condition: it never trips, it opens its second's window. */
  isFirst(rule: CheckedRule): boolean {
    return ((this.sequences?.firsts ?? 0n) >> BigInt(rule.index)) & 1n ? true : false;
  }

  /** The mask of the parts whose verdict qt_sequence_holds() gives (0n without sequences). */
  sequenced(parts: CheckedRule[]): bigint {
    return mask(parts) & (this.sequences?.parts ?? 0n);
  }

  use(fragments: Fragment[]): void {
    for (const f of fragments) this.fragments.add(f);
  }
}

function tripLines(rule: CheckedRule, indent: string): string[] {
  return [`${indent}qt_trip_rule(${stapString(rule.label)})`, `${indent}next`];
}

/**
 * A stop the thread sees itself (its key is the current thread), when every rule of the table
 * filters on the thread's pid or tid: a thread that none of them match started nothing, so it
 * pays the filter test only, as at the start (what unwatched tasks pay is the floor's cost).
 */
function ownThreadsOnly(table: InflightTable, stop: ReturnType<typeof lower>): string | undefined {
  if (stop.key !== "tid()") return undefined;
  const tests = table.rules.map(({ rule }) => threadIdTest(rule, stop.reads));
  if (tests.some((t) => t === undefined)) return undefined;
  return tests.length === 1 ? tests[0] : tests.map((t) => `(${t})`).join(" || ");
}

function addTable(script: GuestScript, table: InflightTable): void {
  const { handlers, kernel } = script;
  for (const stop of table.stops) {
    const lowered = lower(stop, kernel);
    script.use(lowered.fragments);
    handlers.comment(lowered.probe, `Stop timing (table ${table.index}, ${table.name}): ${stop.reason}.`);
    const stopIt = `qt_stop(${table.index}, ${lowered.key})`;
    const guards = [lowered.guard, ownThreadsOnly(table, lowered)].filter(Boolean);
    handlers.add(lowered.probe, [guards.length ? `\tif (${guards.join(" && ")}) ${stopIt}` : `\t${stopIt}`]);
  }
  const start = lower(table.start, kernel);
  script.use(start.fragments);
  handlers.comment(start.probe, `Start timing (table ${table.index}, ${table.name}): filters first, then one lock-free table write for the rules that match.`);
  const lines = ["\tqt_rules = 0"];
  for (const { rule, select } of table.rules) {
    const tests = select.map((s) => lowerSelection(s, start.values, rule.index));
    for (const t of tests) script.use(t.fragments);
    const test = ruleTest(rule, start.reads, tests.map((t) => t.test));
    lines.push(...ruleComment(rule, "\t"), test ? `\tif (${test}) qt_rules |= ${bit(rule)}` : `\tqt_rules |= ${bit(rule)}`);
  }
  const guard = start.guard ? `${start.guard} && ` : "";
  script.use([start.returnProbed ? returnProbes : startAtEvent]);
  lines.push(`\tif (${guard}qt_rules) ${start.returnProbed ? "qt_start_call" : "qt_start"}(${table.index}, ${start.key}, qt_rules)`);
  handlers.add(start.probe, lines);
}

function addEvent(script: GuestScript, { rule, at, select }: EventRule): void {
  const { handlers } = script;
  const lowered = lower(at, script.kernel);
  script.use(lowered.fragments);
  for (const f of rule.filters) script.use(lowered.readFragments[f.attribute] ?? []);
  const tests = select.map((s) => lowerSelection(s, lowered.values, rule.index, rule.countsPauses));
  for (const t of tests) {
    script.use(t.fragments);
    if (t.prelude) handlers.prelude(lowered.probe, t.prelude);
  }
  handlers.comment(lowered.probe, "Conditions seen where they happen.");
  // Every filter before the count: counting records an occurrence.
  const conditions = [...(lowered.guard ? [lowered.guard] : []), ...tests.map((t) => t.test)];
  const filtered = ruleTest(rule, lowered.reads, conditions);
  if (script.isFirst(rule)) {
    // A sequence's first condition (no modifier of its own): it stamps the time, it never trips.
    script.use([script.sequences!.atEvent]);
    const stamp = `qt_sequence(${rule.index}) # opens the window of the sequence's second condition`;
    handlers.add(lowered.probe, [...ruleComment(rule, "\t"), filtered ? `\tif (${filtered}) ${stamp}` : `\t${stamp}`]);
    return;
  }
  script.use([tripRule]);
  const occurrence = rule.after ? [`qt_ready(${bit(rule)})`] : [];
  if (rule.after) script.use([readyAtEvent]);
  // A sequence's second condition counts only within its window; the count counts only those.
  const inWindow = rule.sequence ? [`qt_sequence(${rule.index})`] : [];
  if (inWindow.length) script.use([script.sequences!.atEvent]);
  // One occurrence is enough, but for a counting rule.
  const held = script.plan.ringSizes[rule.index] > 0 ? [`qt_count(${rule.index}, 1)`] : [];
  if (held.length) script.use([countAtEvent]);
  const test = [...(filtered ? [filtered] : []), ...occurrence, ...inWindow, ...held].join(" && ");
  handlers.add(lowered.probe, [...ruleComment(rule, "\t"), test ? `\tif (${test}) {` : "\t{", ...tripLines(rule, "\t\t"), "\t}"]);
}

/** The scan of the tables runs in the fragments' C (fragments/scan-timer.ts); the timed rules' labels reach it from the begin probe. */
function useScanTimers(script: GuestScript): string[] {
  const timed = script.plan.tables.flatMap((t) => t.rules.map((r) => r.rule));
  if (timed.length === 0) return [];
  const counted = mask(timed.filter((r) => script.plan.ringSizes[r.index] > 0));
  const sequenced = script.sequenced(timed);
  if (sequenced) script.use([script.sequences!.fragment]);
  const pausing = mask(timed.filter((r) => r.countsPauses));
  script.use([scanTimer({ counted, sequenced, delayed: timed.some((r) => r.after), returns: script.fragments.has(returnProbes), pausing })]);
  return timed.map((r) => `\tqt_set_label(${r.index}, ${stapString(r.label)})`);
}

/** Rules whose progress is watched from another CPU trip from the watching CPU's timer, in C (fragments/vcpu-watch.ts): their labels, delays and counts reach it. */
function useVcpuWatch(script: GuestScript): string[] {
  const watched = script.plan.events.filter((e) => e.select.some((s) => s.kind === "progress-watched" || s.kind === "tick-interval-exceeds")).map((e) => e.rule);
  if (watched.length === 0) return [];
  const counted = mask(watched.filter((r) => script.plan.ringSizes[r.index] > 0));
  const sequenced = script.sequenced(watched);
  if (sequenced) script.use([script.sequences!.fragment]);
  script.use([vcpuWatch({ counted, sequenced, delayed: watched.some((r) => r.after) })]);
  return watched.map((r) => `\tqt_set_watch_label(${r.index}, ${stapString(r.label)})`);
}

/** Steal rules keep rings of samples per CPU (fragments/steal.ts), only theirs: the module's per-CPU area is small. */
function useSteal(script: GuestScript): void {
  const rules = script.plan.events.filter((e) => e.select.some((s) => s.kind === "steal-share")).map((e) => e.rule.index);
  if (rules.length) script.use([stealShare(rules)]);
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

/** Refuses to arm (see fragments/refuse.ts) and leaves the begin probe. */
function refuseIf(script: GuestScript, condition: string, message: string): string {
  script.use([refuse]);
  return `\tif (${condition}) {\n\t\tqt_refuse(${message})\n\t\tnext\n\t}`;
}

function emitBegin(script: GuestScript): string[] {
  const { plan } = script;
  const { file } = plan;
  const out = ["", "probe begin {"];
  for (const p of plan.runtimeParams) {
    const unset = p.type === "int" ? UNSET_INT : UNSET_STRING;
    out.push(refuseIf(script, `${p.name} == ${unset}`, stapString(`qtrip: parameter '${p.name}' has no value: start the script with -G ${p.name}=VALUE`)));
    if (p.type === "duration") {
      script.use([durations]);
      out.push(`\tqt_${p.name}_ns = qt_parse_duration(${p.name})`);
      out.push(refuseIf(script, `qt_${p.name}_ns < 0`, `${stapString(`qtrip: parameter '${p.name}' is not a duration (e.g. 200ms): `)} . ${p.name}`));
    }
  }
  out.push(...useScanTimers(script), ...useVcpuWatch(script));
  if (plan.ringSizes.some((n) => n > 0)) out.push("\tqt_bind_rings()");
  if (script.fragments.has(moduleSymbols)) out.push("\tqt_kernel_resolves_module_symbols() # before kprobe.module() probes are registered");
  for (const rule of plan.parts) {
    const set: string[] = [];
    if (rule.threshold?.nanoseconds.kind === "param") {
      script.use([runtimeThresholds]);
      set.push(`\tqt_set_threshold(${rule.index}, ${beginValue(rule.threshold.nanoseconds)}, ${rule.threshold.op === ">=" ? 1 : 0})`);
    }
    if (rule.reading) {
      const { op, value, unitNs } = rule.reading;
      set.push(`\tqt_set_least(${rule.index}, ${beginValue(value)}, ${stapInt(unitNs ?? 1n)}, ${op === ">=" ? 1 : 0})`);
    }
    const size = plan.ringSizes[rule.index];
    if (size > 0 && rule.count) {
      const { times, window } = rule.count;
      if (times.kind === "param") {
        out.push(refuseIf(script, `${times.name} < 1 || ${times.name} > ${size}`, stapString(`qtrip: parameter '${times.name}' must be from 1 to ${size}`)));
      }
      set.push(`\tqt_set_count(${rule.index}, ${beginValue(times)}, ${beginValue(window)})`);
    }
    if (rule.after) {
      script.use([delays]);
      set.push(`\tqt_set_after(${rule.index}, ${beginValue(rule.after)})`);
    }
    if (rule.sequence) set.push(`\tqt_set_sequence(${rule.index}, ${rule.sequence.first.index}, ${beginValue(rule.sequence.within)})`);
    if (set.length) out.push(...ruleComment(rule, "\t"), ...set);
  }
  if (file.rules.some((r) => r.after)) out.push("\tqt_start_delays()");
  out.push(
    `\tqt_log_armed(${file.rules.length}, ${stapString(file.caseId ?? "")})`,
    "}",
  );
  return out;
}

/** Timestamps of the last N times each counting rule held; the rings are static arrays of the right size. */
function emitRings(script: GuestScript): string[] {
  const rings = script.plan.ringSizes.map((size, rule) => ({ size, rule })).filter((r) => r.size > 0);
  if (rings.length === 0) return [];
  script.use([counting]);
  return [
    "",
    "# Timestamps of the last N times each counting rule held (N times within D).",
    "%{",
    ...rings.map((r) => `static u64 qt_ring_${r.rule}[${r.size}];`),
    "%}",
    "function qt_bind_rings() %{",
    ...rings.flatMap((r) => [`\tqt_counters[${r.rule}].ring = qt_ring_${r.rule};`, `\tqt_counters[${r.rule}].size = ${r.size};`]),
    "%}",
  ];
}

/**
 * Each rule's threshold in ns, the constant ones filled in: rule r holds for a duration above
 * qt_threshold[r]. '>= D' is '> D - 1', written once, as QT_AT_LEAST: the table's constants and
 * the run-time thresholds (fragments/core.ts: qt_set_threshold) both use it.
 */
function thresholdTable(plan: GuestPlan): string[] {
  const rules = plan.parts;
  if (!rules.some((r) => r.threshold)) return [];
  const values = rules.map((r) => {
    const t = r.threshold;
    if (!t || t.nanoseconds.kind === "param") return "0";
    return t.op === ">=" ? `QT_AT_LEAST(${stapInt(t.nanoseconds.value)})` : stapInt(t.nanoseconds.value);
  });
  // Only where a '>=' or a run-time threshold uses it.
  const atLeast = rules.some((r) => r.threshold?.op === ">=" || r.threshold?.nanoseconds.kind === "param");
  return [
    ...(atLeast ? ["#define QT_AT_LEAST(ns) ((ns) > 0 ? (ns) - 1 : (ns)) /* '>= D' is '> D - 1' */"] : []),
    `static u64 qt_threshold[QT_RULES] = { ${values.join(", ")} }; /* ns */`,
  ];
}

export function emitGuest({ plan, kernel, sourceName, sourceText, outputName }: GuestScriptInput): string {
  const { file } = plan;
  const script = new GuestScript(plan, kernel);
  // A guest script has no uprobe: SystemTap 5.1 on 6.12 would otherwise refuse to start it (FINDINGS (i)).
  script.use([noUprobes, core(plan.dryRun)]);
  if (plan.tables.length) script.use([inflight]);
  for (const table of plan.tables) addTable(script, table);
  for (const event of plan.events) addEvent(script, event);
  useSteal(script);
  const rings = emitRings(script);
  const params = emitParams(plan.runtimeParams);
  const begin = emitBegin(script);

  const defines = plan.runtimeParams.map((p) => ` -G ${p.name}=VALUE`).join("");
  const ruleLines = file.rules.flatMap((rule) => ruleComment(rule, "  ").map((l) => l.replace(/^ {2}# /, "")));
  const top = header({
    sourceName,
    sourceText,
    file,
    role: `qtrip guest trip-wire${plan.dryRun ? " (DRY RUN: logs the trip, never writes the port)" : ""}`,
    run: [`stap ${GUEST_STAP_OPTIONS}${defines} ${shellWord(outputName)}`],
    stock: [
      "On a stock install, its launcher (beside it) says first what is missing, adds what this SystemTap needs, runs it:",
      `  sh ${shellWord(launcherName(outputName))}${defines}`,
    ],
    body: [
      "Runs inside the guest; needs the guest kernel's headers and a compiler there, not its debuginfo.\n" +
        `Without a compiler: \`qtrip build ${commentText(shellWord(sourceName))} --kernel GUEST_RELEASE\` on a machine with those headers,\n` +
        "then in the guest the staprun command it prints (Secure Boot: sign the module, see docs/guest.md).\n" +
        "The -D options keep SystemTap from stopping the script under load; without them it warns.",
      `The first rule that holds puts "qtrip: tripped: LABEL" in the kernel log${plan.dryRun ? "" : `, then writes\nbyte ${hex(file.channel.value)} to port ${hex(file.channel.port)} once; the host probe crashes the hypervisor on that write`}.\nThe consoles print the line afterwards: a busy console cannot delay the trip.`,
      `Rules:\n${ruleLines.map((l) => `  ${l}`).join("\n")}`,
    ],
  });
  const sizes = [
    ...(plan.tables.length ? [`#define QT_TABLES ${plan.tables.length}`] : []),
    `#define QT_RULES ${plan.parts.length}`,
    `#define QT_CHANNEL_PORT ${hex(file.channel.port)}`,
    `#define QT_CHANNEL_VALUE ${hex(file.channel.value)}`,
    ...thresholdTable(plan),
  ];
  const lines = [
    ...emitFragments([{ name: "sizes and the channel", c: sizes.join("\n") }, ...script.fragments]),
    ...rings,
    ...params,
    ...begin,
    ...script.handlers.emit(),
  ];
  return `${top}\n${lines.join("\n")}\n`;
}
