// A suggestion that names exactly one replacement for the diagnostic's span
// ("did you mean 'read'?") is a fix a tool can apply: the editor's quick fix,
// SARIF's `fixes`.
import type { Diagnostic } from "./diagnostic.js";

export function replacementOf(d: Diagnostic): string | undefined {
  return d.suggestion ? /^did you mean '([^']+)'\?$/.exec(d.suggestion)?.[1] : undefined;
}
