// The one door from the language server into the compiler: everything the
// server needs from the pipeline, the condition specs, the formatter and
// `explain` comes through here, so that the server reuses the compiler's own
// parser and checker and a re-layering of the compiler touches one file.
export { runPipeline, type Products } from "../compile.js";
export { walkPattern, type PatternTerm } from "../check/pattern.js";
export { scanTokens, type ScannedToken } from "../syntax/lexer.js";
export type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
export { replacementOf } from "../diagnostics/fix.js";
export { ABOUT_ALLOWANCES, WARNINGS } from "../diagnostics/warnings.js";
export { explain } from "../explain/explain.js";
export { ATTRIBUTES, specs, readLinePattern, tables } from "../../stdlib/index.js";

/** The prettier plugin's formatting, loaded on the first request: prettier costs start-up time. */
export async function formatSource(text: string): Promise<string> {
  const { formatSource: format } = await import("../format/format.js");
  return format(text);
}

import type { Products } from "../compile.js";
import type { specs } from "../../stdlib/index.js";

/** The compiler's data, named by what the names above give: no deeper imports. */
export type RuleFile = Products["ast"];
export type Item = RuleFile["items"][number];
export type Rule = Extract<Item, { kind: "Rule" }>;
export type ParamDecl = Extract<Item, { kind: "Param" }>;
export type CheckedFile = NonNullable<Products["checked"]>;
export type CheckedRule = CheckedFile["rules"][number];
export type ConditionSpec = (typeof specs)[number];
export type NameTable = "syscall" | "errno" | "signal" | "event" | "direction";
export type Value = Rule["filters"][number]["value"];
export type ParamRef = Extract<Value, { kind: "ParamRef" }>;
export type Condition = Rule["condition"];
export type Word = Condition["head"];
export type Term = Rule["condition"]["terms"][number];
