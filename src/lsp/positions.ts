// qtrip's spans count lines and columns from 1 in UTF-16 code units, the LSP's
// from 0 in the same units (its default encoding), so a span maps one to one.
import type { Range } from "vscode-languageserver";
import type { Span } from "./compiler.js";

export function toRange(span: Span): Range {
  return {
    start: { line: span.start.line - 1, character: span.start.column - 1 },
    end: { line: span.end.line - 1, character: span.end.column - 1 },
  };
}

/** Whether `offset` is inside the span or touches its end (the cursor just after a word). */
export function spanHolds(span: Span, offset: number): boolean {
  return span.start.offset <= offset && offset <= span.end.offset;
}

export function rangesOverlap(a: Range, b: Range): boolean {
  const before = (x: Range["start"], y: Range["start"]) => x.line < y.line || (x.line === y.line && x.character < y.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}
