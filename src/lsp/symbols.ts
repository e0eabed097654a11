// Document symbols: one per rule, named by its label as the guest script logs
// it (`as "…"`, else FILE:LINE), with the condition as its detail.
import { basename } from "node:path";
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { Rule } from "./compiler.js";
import type { Analysis } from "./document.js";
import { toRange } from "./positions.js";

/** The checker's label rule, read off the AST so that a file with errors has symbols too. */
export function ruleLabel(rule: Rule, fileName: string): string {
  const label = rule.modifiers.find((m) => m.kind === "Label");
  return label?.kind === "Label" ? label.label.value : `${basename(fileName)}:${rule.span.start.line}`;
}

export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  const { ast } = analysis.result;
  return ast.items
    .filter((i): i is Rule => i.kind === "Rule")
    .map((rule) => ({
      name: ruleLabel(rule, analysis.fileName) || `${basename(analysis.fileName)}:${rule.span.start.line}`,
      detail: analysis.text.slice(rule.condition.span.start.offset, rule.condition.span.end.offset).replace(/\s+/g, " "),
      kind: SymbolKind.Event,
      range: toRange(rule.span),
      selectionRange: toRange(rule.condition.head.span),
    }));
}
