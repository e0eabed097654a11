// The compiler's diagnostics as the LSP's: the same codes, spans and
// suggestions as `qtrip check`, and a quick fix for each suggestion that is a
// concrete replacement ("did you mean 'read'?").
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic as LspDiagnostic, type Range } from "vscode-languageserver";
import { replacementOf, type Diagnostic } from "./compiler.js";
import type { Analysis } from "./document.js";
import { rangesOverlap, toRange } from "./positions.js";

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  // The editor shows one message: notes and help follow it as `qtrip check` prints them.
  const lines = [d.message, ...(d.notes ?? []).map((n) => `note: ${n}`), ...(d.suggestion ? [`help: ${d.suggestion}`] : [])];
  return {
    range: toRange(d.span),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "qtrip",
    message: lines.join("\n"),
  };
}

export function lspDiagnostics(analysis: Analysis): LspDiagnostic[] {
  return analysis.result.diagnostics.map(toLspDiagnostic);
}

/** Quick fixes for the diagnostics of the current version that overlap `range`. */
export function quickFixes(analysis: Analysis, range: Range): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of analysis.result.diagnostics) {
    const replacement = replacementOf(d);
    const at = toRange(d.span);
    if (replacement === undefined || !rangesOverlap(at, range)) continue;
    actions.push({
      title: `Change to '${replacement}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [toLspDiagnostic(d)],
      isPreferred: true,
      edit: { changes: { [analysis.uri]: [{ range: at, newText: replacement }] } },
    });
  }
  return actions;
}
