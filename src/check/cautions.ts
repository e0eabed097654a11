// Rules that are valid but would trip on a task that is merely idle: a trip
// crashes the hypervisor, so the checker says so (a warning: it still compiles).
import { warning, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import type { ConditionSpec } from "../../stdlib/index.js";
import type { CheckContext } from "./context.js";

const HELP = "name the calls that should never wait long (file I/O such as pread64, pwrite64, fsync; memory management such as mmap, munmap), or filter on one thread with 'tid'";

export function checkCautions(ctx: CheckContext, entry: ConditionSpec, words: ast.Word[] | undefined, head: Span, filters: ast.Filter[]): void {
  const caution = entry.blocksByDesign;
  if (!caution || filters.some((f) => f.attribute.name === "tid")) return;
  if (!words?.length) {
    if (!caution.whenOmitted) return;
    ctx.report(
      warning("W0005", head, `this rule watches every call, including those an idle thread waits in as long as it likes (${caution.names.slice(0, 4).join(", ")}…)`, {
        notes: ["such a thread trips the rule as soon as it has waited the threshold, and a trip crashes the host"],
        suggestion: HELP,
      }),
    );
    return;
  }
  for (const word of words) {
    if (!caution.names.includes(word.name)) continue;
    ctx.report(
      warning("W0004", word.span, `'${word.name}' blocks by design: an idle thread waits in it as long as it likes, and trips this rule`, {
        notes: ["a trip crashes the host"],
        suggestion: HELP,
      }),
    );
  }
}
