// Shares of time: `steal > 20% within 1s`. The percentage is the condition's
// argument; the window becomes the rule's threshold, so that a `$param` window
// reaches the guest as any threshold does.
import { error } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import { durationText } from "../syntax/build-ast.js";
import type { ConditionArgs, ConditionSpec } from "../../stdlib/index.js";
import type { CheckedRule } from "./checked.js";
import type { CheckContext } from "./context.js";
import { durationOperand } from "./values.js";

/** A comparison that is a share (`> P% within D`) where the condition compares a duration or a number: refused. */
export function refuseShare(ctx: CheckContext, entry: ConditionSpec, comparison: ast.Comparison | undefined): boolean {
  if (!comparison?.within) return false;
  ctx.report(
    error("E0159", comparison.value.span, `'${entry.syntax}' compares no share of time`, {
      suggestion: entry.threshold ? "give a duration: '> 200ms'" : entry.reads ? "give a number: '> 1000'" : "remove the comparison",
    }),
  );
  return true;
}

/** A share condition's comparison: its percentage into `args`, its window as the threshold; undefined after a diagnostic. */
export function checkShare(
  ctx: CheckContext,
  condition: ast.Condition,
  entry: ConditionSpec,
  args: ConditionArgs,
): CheckedRule["threshold"] | undefined {
  const comparison = condition.comparison;
  const least = entry.share!;
  if (!comparison?.within) {
    ctx.report(
      error("E0159", comparison?.value.span ?? condition.span, `'${entry.head}' compares a share of time: ${entry.syntax}`, {
        suggestion: `write e.g. '${entry.head} > 20% within 1s'`,
      }),
    );
    return undefined;
  }
  const percent = comparison.value.kind === "Int" ? comparison.value.value : -1n;
  // `> 100%` never holds and `>= 0%` always does; `>= 100%` only on a broken counter.
  const top = comparison.op === ">" ? 99n : 100n;
  const bottom = comparison.op === ">" ? 0n : 1n;
  if (percent < bottom || percent > top) {
    ctx.report(
      error("E0158", comparison.value.span, `a share must be from ${bottom}% to ${top}% with '${comparison.op}'`, {
        notes: [comparison.op === ">" ? "above 100% is never; above 0% is any steal at all, and is allowed" : "at least 0% is always"],
      }),
    );
    return undefined;
  }
  const window = durationOperand(ctx, comparison.within, "the window");
  if (!window) return undefined;
  if (window.kind === "const" && window.value < least.leastWindow) {
    ctx.report(
      error("E0147", comparison.within.span, `'${entry.syntax}' needs a window of at least ${durationText(least.leastWindow)}`, {
        notes: [least.why],
        suggestion: `raise it to ${durationText(least.leastWindow)} or more`,
      }),
    );
    return undefined;
  }
  args.share = { percent: Number(percent), inclusive: comparison.op === ">=" };
  return { op: ">", nanoseconds: window };
}
