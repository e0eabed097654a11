// One Diagnostic type for every pass; renderers turn it into text or JSON.
import type { Code, ErrorCode, WarningCode } from "./registry.js";

/** A place in a source file. Lines and columns count from 1; columns count UTF-16 code units. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

/** A source range; `end` is exclusive. */
export interface Span {
  start: Position;
  end: Position;
}

export type Severity = "error" | "warning";

export interface Diagnostic {
  /** Stable code, e.g. E0101: one of src/diagnostics/registry.ts (docs/diagnostics.md explains each). */
  code: Code;
  severity: Severity;
  span: Span;
  message: string;
  /** Extra lines printed as `note: …`. */
  notes?: string[];
  /** A likely fix, printed as `help: …`. */
  suggestion?: string;
}

export function error(code: ErrorCode, span: Span, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { code, severity: "error", span, message, ...extra };
}

export function warning(code: WarningCode, span: Span, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { code, severity: "warning", span, message, ...extra };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
