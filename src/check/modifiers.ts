// Modifiers: `N times within D`, `after D`, `counting pauses`, `as "label"`, each at most once a rule.
import { error } from "../diagnostics/diagnostic.js";
import { pausesUncountable, type ConditionSpec } from "../../stdlib/index.js";
import type * as ast from "../syntax/ast.js";
import type { CheckedRule, Operand } from "./checked.js";
import type { CheckContext } from "./context.js";
import * as limits from "./limits.js";
import { checkText, durationOperand, operand } from "./values.js";

export interface CheckedModifiers {
  count?: CheckedRule["count"];
  after?: Operand<bigint>;
  countsPauses?: true;
  label?: string;
}

const NAMES = { Count: "N times within D", After: "after", Pauses: "counting pauses", Label: "as" };

/** `trips`: the spec of the condition that trips (a sequence's B), when it matched one. */
export function checkModifiers(ctx: CheckContext, rule: ast.Rule, trips: ConditionSpec | undefined): CheckedModifiers {
  const result: CheckedModifiers = {};
  const seen = new Map<string, ast.Modifier>();
  for (const modifier of rule.modifiers) {
    const first = seen.get(modifier.kind);
    if (first) {
      ctx.report(
        error("E0160", modifier.span, `'${NAMES[modifier.kind]}' is given twice in one rule`, { notes: [`first given on line ${first.span.start.line}`] }),
      );
      continue;
    }
    seen.set(modifier.kind, modifier);
    if (modifier.kind === "Count") {
      const count = checkCount(ctx, modifier);
      if (count) result.count = count;
    } else if (modifier.kind === "After") {
      const after = durationOperand(ctx, modifier.delay, "'after'");
      if (after) result.after = after;
    } else if (modifier.kind === "Pauses") {
      if (trips && checkPauses(ctx, modifier, trips)) result.countsPauses = true;
    } else if (checkText(ctx, modifier.label, "label")) {
      result.label = modifier.label.value;
    }
  }
  return result;
}

function checkCount(ctx: CheckContext, modifier: Extract<ast.Modifier, { kind: "Count" }>): CheckedRule["count"] {
  const times = operand(ctx, modifier.times, "int", "the count") as Operand<bigint> | undefined;
  const window = durationOperand(ctx, modifier.window, "the window");
  if (times?.kind === "const" && (times.value < 1n || times.value > limits.MAX_TIMES)) {
    ctx.report(error("E0161", modifier.times.span, `the count must be from 1 to ${limits.MAX_TIMES}, not ${times.value}`));
    return undefined;
  }
  if (window?.kind === "const" && window.value === 0n) {
    ctx.report(error("E0162", modifier.window.span, "the window must be longer than 0"));
    return undefined;
  }
  return times && window ? { times, window } : undefined;
}

/** `counting pauses` fits only durations a pause can lengthen: the spec says which (stdlib/spec.ts). */
function checkPauses(ctx: CheckContext, modifier: ast.PausesModifier, trips: ConditionSpec): boolean {
  const why = pausesUncountable(trips);
  if (why === undefined) return true;
  ctx.report(error("E0163", modifier.span, "'counting pauses' applies to durations a pause can lengthen: latencies and 'tick gap'", { notes: [why] }));
  return false;
}
