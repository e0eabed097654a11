// Diagnostics as text (`file:line:col: error: … [code]`, then rustc-style the
// source line, carets, notes and help) and as JSON.
import type { Diagnostic } from "./diagnostic.js";

export interface SourceFile {
  /** The name as the user gave it. */
  name: string;
  text: string;
}

/** Tabs become spaces so that the caret lines up with what a terminal shows. */
function expandTabs(line: string, column: number): { text: string; column: number } {
  let text = "";
  let shifted = column;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\t") {
      const width = 4 - (text.length % 4);
      text += " ".repeat(width);
      if (i < column - 1) shifted += width - 1;
    } else {
      text += line[i];
    }
  }
  return { text, column: shifted };
}

/** The source line holding `offset`, found without splitting the whole file for each diagnostic. */
function lineAt(text: string, offset: number): string {
  const start = offset === 0 ? 0 : text.lastIndexOf("\n", offset - 1) + 1;
  const end = text.indexOf("\n", start);
  return text.slice(start, end === -1 ? text.length : end);
}

export function renderText(d: Diagnostic, file: SourceFile): string {
  const { line, column } = d.span.start;
  // LANGUAGE.md's form, `FILE:LINE:COL: error: MESSAGE`, with the stable code last as clang does.
  const header = `${file.name}:${line}:${column}: ${d.severity}: ${d.message} [${d.code}]`;
  const sourceLine = lineAt(file.text, d.span.start.offset).replace(/\r$/, "");
  const gutter = " ".repeat(String(line).length);
  const expanded = expandTabs(sourceLine, column);
  // Underline to the end of the span, or to the end of the line for a span that runs on.
  const endColumn = d.span.end.line === line ? d.span.end.column : sourceLine.length + 1;
  const width = Math.max(1, endColumn - column);
  const out = [
    header,
    `${gutter} |`,
    `${line} | ${expanded.text}`,
    `${gutter} | ${" ".repeat(Math.max(0, expanded.column - 1))}${"^".repeat(width)}`,
  ];
  for (const note of d.notes ?? []) out.push(`${gutter} = note: ${note}`);
  if (d.suggestion) out.push(`${gutter} = help: ${d.suggestion}`);
  return out.join("\n");
}

export interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Diagnostic["severity"];
  code: string;
  message: string;
  notes?: string[];
  suggestion?: string;
}

export function toJson(d: Diagnostic, file: SourceFile): JsonDiagnostic {
  return {
    file: file.name,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.notes ? { notes: d.notes } : {}),
    ...(d.suggestion ? { suggestion: d.suggestion } : {}),
  };
}
