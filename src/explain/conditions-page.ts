// docs/conditions.md, generated from the condition specs (stdlib/) by `npm run generate`:
// the same data `qtrip sources` prints, so the page cannot drift from the compiler.
// test/docs/conditions-page.test.ts fails when the committed page is stale.
import { KERNEL_EVENTS } from "../../stdlib/index.js";
import { lowered, sources, type SourceInfo } from "./sources.js";

/** A table cell: a pipe would end it, a newline the row. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** Probe points in code spans: their quotes, parentheses and underscores stay as written. */
const probe = (p: string) => p.replace(/\b((?:kernel\.trace|kprobe|timer|uprobe)\b[^ ,;]*)/g, "`$1`");

/** `event NAME` lowers per event: one row each, from a one-rule source like its example. */
function eventRows(): string[] {
  return [
    "| event | probe points |",
    "|---|---|",
    ...KERNEL_EVENTS.map((name) => `| \`${name}\` | ${cell(lowered(`when event ${name}`, `event ${name}`).probes.map(probe).join("; "))} |`),
  ];
}

function section(s: SourceInfo): string[] {
  return [
    `## ${s.condition}`,
    "",
    `\`${s.syntax}\`: holds when ${s.holds}.`,
    "",
    `- **filters**: ${s.filters.map((f) => `\`${f}\``).join(", ")}`,
    `- **probe points** (debuginfo ${s.debuginfo ? "needed" : "not needed"}): ${s.probes.map(probe).join("; ")}`,
    `- **cost**: ${s.cost}: ${s.costDetail}`,
    `- **kernels and limits**: ${s.kernels}`,
    `- **pauses**: ${s.pauses}`,
    ...(s.condition === "event" ? ["", ...eventRows()] : []),
    "",
    "```qtrip",
    s.example,
    "```",
    "",
  ];
}

export function conditionsPage(): string {
  const all = sources();
  return [
    "# Conditions",
    "",
    "<!-- Generated from stdlib/ by `npm run generate` (src/explain/conditions-page.ts). Do not edit. -->",
    "",
    "Every condition a rule can name, from the condition specs in `stdlib/`: what `qtrip sources`",
    "prints. The syntax around them (filters, modifiers, parameters) is in [language.md](language.md).",
    "Latency conditions are detected **in flight**: a call, request or wait still unfinished past",
    "its threshold trips then, not when (if ever) it ends.",
    ...(all.every((s) => !s.debuginfo) ? ["No condition needs the kernel's debuginfo: the probe points are tracepoints, kprobes on symbols and timers."] : []),
    "",
    "| condition | syntax | cost |",
    "|---|---|---|",
    ...all.map((s) => `| [${s.condition}](#${s.condition}) | \`${cell(s.syntax)}\` | ${s.cost} |`),
    "",
    ...all.flatMap(section),
  ].join("\n");
}
