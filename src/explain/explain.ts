// `qtrip explain`: each rule in plain words, for a reviewer who does not read
// SystemTap — what it watches, where and how often it probes, what the filters
// and modifiers do, when it trips, and what the host does then.
import type { CheckedFile, CheckedRule, Operand } from "../check/checked.js";
import type { HostAction, HostProbe } from "../codegen/host.js";
import { planGuest } from "../codegen/plan.js";
import { hex } from "../codegen/stap-syntax.js";

const FILTER_WORDS: Record<string, string> = {
  pid: "process",
  tid: "thread",
  comm: "task named",
  uid: "user id",
  cpu: "CPU",
  device: "disk",
};

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

function watches(rule: CheckedRule): string {
  const { names, strings } = rule.args;
  const calls = names.syscalls?.map((c) => c.name).join(", ");
  switch (rule.entry.id) {
    case "syscall-latency":
      return calls ? `system calls ${calls}` : "every system call";
    case "syscall-error": {
      const errnos = names.errnos?.map((e) => e.name).join(", ");
      return `${calls ? `system calls ${calls}` : "every system call"} that fail${errnos ? ` with ${errnos}` : ""}`;
    }
    case "io-latency":
      return "block I/O requests";
    case "sched-latency":
      return "woken tasks waiting for a CPU";
    case "function-latency":
      return `calls of the kernel function ${strings.function}`;
    case "tick-gap":
      return "each busy CPU's timer ticks";
    case "message":
      return `kernel log lines containing ${JSON.stringify(strings.text)}`;
    case "event":
      return `the guest kernel's ${names.event[0].name} events`;
    default:
      return `${names.signal?.[0].name ?? rule.entry.id} signals delivered to tasks`;
  }
}

function trips(rule: CheckedRule, inflight: boolean, scanMs: number): string {
  const threshold = rule.threshold;
  const limit = threshold ? `${threshold.op === ">=" ? "at least" : "longer than"} ${describe(threshold.nanoseconds, true)}` : "";
  let when: string;
  if (inflight) when = `when one has lasted ${limit}, seen while it still lasts (checked every ${scanMs} ms)`;
  else if (rule.entry.id === "tick-gap") when = `when a CPU's gap between two ticks is ${limit}, on that CPU's first tick back`;
  else when = "when it happens";
  const count = rule.count ? `, once this has happened ${describe(rule.count.times)} times within ${describe(rule.count.window, true)}` : ", the first time";
  const after = rule.after ? `; nothing counts during the first ${describe(rule.after, true)} after the guest script starts` : "";
  return `${when}${count}${after}`;
}

export interface ExplainOptions {
  fileName: string;
  dryRun: boolean;
  hostAction: HostAction;
  hostProbe: HostProbe;
}

const HOST_ACTION_WORDS: Record<HostAction, string> = {
  int13: "crashes the host into kdump with int $13 (the crashing CPU's own stack is lost; the others are kept)",
  panic: "calls panic(), so kdump keeps the tripping vCPU thread's clean stack",
  log: "only logs (rehearsal)",
};

export function explain(file: CheckedFile, options: ExplainOptions): string {
  const plan = planGuest(file, { dryRun: options.dryRun });
  const inflightRules = new Set(plan.tables.flatMap((t) => t.rules.map((r) => r.rule)));
  // The probe points this rule's script really uses, from the plan.
  const probesOf = new Map<CheckedRule, string[]>();
  for (const table of plan.tables) {
    const { start, stops } = table.shape;
    const points = [...start.probes.map((p) => `${p} (start)`), ...stops.map((s) => `${s.probe} (stop)`), `timer.ms(${plan.scanPeriodMs}) (scan)`];
    for (const { rule } of table.rules) probesOf.set(rule, points);
  }
  for (const { rule, codegen } of plan.events) probesOf.set(rule, [codegen.probe, ...(codegen.helpers ?? []).map((h) => h.probe)]);
  const out: string[] = [];
  out.push(
    `${options.fileName}: ${file.rules.length} rule${file.rules.length === 1 ? "" : "s"}` +
      `${file.caseId !== undefined ? `, case ${JSON.stringify(file.caseId)}` : ""}${file.title !== undefined ? ` (${file.title})` : ""}.`,
    "The guest script trips on the first rule that holds, once.",
    "",
  );
  for (const rule of file.rules) {
    const inflight = inflightRules.has(rule);
    const filters = rule.filters.map((f) => `${FILTER_WORDS[f.attribute]} ${describe(f.value)}`);
    out.push(
      `${rule.label}:`,
      `  ${rule.source.replace(/\s*\n\s*/g, " ")}`,
      `  Watches ${watches(rule)}${filters.length ? `, only for ${filters.join(" and ")}` : ", anywhere in the guest"}.`,
      `  Probes: ${probesOf.get(rule)!.join(", ")}.`,
      `  Cost: ${rule.entry.cost.class}: ${rule.entry.cost.detail}.`,
      `  Trips ${trips(rule, inflight, plan.scanPeriodMs)}.`,
      "",
    );
  }
  const { port, value } = file.channel;
  out.push(
    options.dryRun
      ? `On a trip the guest logs "qtrip: tripped: LABEL" and writes nothing (dry run): the host is not told.`
      : `On a trip the guest logs "qtrip: tripped: LABEL", then writes byte ${hex(value)} to I/O port ${hex(port)}.`,
    `The host probe (${options.hostProbe}) sees that write in KVM, logs a banner naming the case and the guest, and ${HOST_ACTION_WORDS[options.hostAction]}.`,
  );
  if (plan.runtimeParams.length) {
    out.push(`Start the guest script with ${plan.runtimeParams.map((p) => `-G ${p.name}=…`).join(" ")}.`);
  }
  return `${out.join("\n")}\n`;
}
