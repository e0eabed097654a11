// What every part of the checker shares while it checks one file: where
// diagnostics go, the parameters declared so far, and which of them are used.
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { CheckedParam } from "./checked.js";

export interface CheckOptions {
  /** The file name used in default labels (`rule.qt:7`). */
  fileName: string;
  /** `--define NAME=VALUE`, as given on the command line. */
  defines?: ReadonlyMap<string, string>;
}

export class CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly params = new Map<string, CheckedParam>();
  readonly usedParams = new Set<string>();

  constructor(
    readonly source: string,
    readonly options: CheckOptions,
  ) {}

  report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === "error").length;
  }
}
