// Sequences: `when A then B within D`. The parser takes `then` with whatever
// follows it, so that each way of getting the form wrong gets its own words
// here: no second condition (E0181), no window right after it (E0182), a chain
// `A then B then C` (E0183), filters after the window (E0184).
import { error } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import type { Operand } from "./checked.js";
import type { CheckContext } from "./context.js";
import { durationOperand } from "./values.js";

export interface SequelShape {
  /** The second condition and its filters, to check as any rule's (even when the rest is wrong: all errors at once). */
  second?: { condition: ast.Condition; filters: ast.Filter[] };
  within?: Operand<bigint>;
  /** The form is right: one `then`, a second condition, a window, no filter after it. */
  ok: boolean;
}

/** The shape of the rule's `then B within D`; undefined when it has none. */
export function checkSequel(ctx: CheckContext, rule: ast.Rule): SequelShape | undefined {
  const [sequel, ...chained] = rule.sequels;
  if (!sequel) return undefined;
  let ok = true;
  for (const extra of chained) {
    ctx.report(
      error("E0183", extra.keyword.span, "a sequence has two conditions: 'then' may come once in a rule", {
        notes: [
          "a chain (A then B then C) is not supported: which windows would C need, after A or after B?",
          "each rule trips on its own; the guest script trips on the first rule that holds",
        ],
        suggestion: "keep 'when A then B within D' and watch the rest with a rule of its own",
      }),
    );
    ok = false;
  }
  if (!sequel.condition) {
    ctx.report(
      error("E0181", sequel.keyword.span, "'then' needs a second condition", {
        suggestion: "name what must follow the first condition: when signal SIGSTOP then syscall read latency > 100ms within 5s",
      }),
    );
    return { ok: false };
  }
  const last = sequel.filters.at(-1) ?? sequel.condition;
  if (!sequel.window) {
    const count = rule.modifiers.find((m) => m.kind === "Count");
    ctx.report(
      error("E0182", { start: last.span.end, end: last.span.end }, "a sequence needs its window, 'within D', right after its second condition", {
        notes: count
          ? [`'${ctx.source.slice(count.span.start.offset, count.span.end.offset)}' is the rule's count: how many times the second condition must hold in its windows, not the window itself`]
          : ["the window is how long after the first condition the second one counts"],
        suggestion: `add it after '${ctx.source.slice(sequel.condition.span.start.offset, last.span.end.offset)}': ... within 5s`,
      }),
    );
    ok = false;
  }
  if (sequel.misplaced.length) {
    const span = { start: sequel.misplaced[0].span.start, end: sequel.misplaced.at(-1)!.span.end };
    ctx.report(
      error("E0184", span, "filters after a sequence's window are ambiguous: they could narrow either condition", {
        notes: ["each condition of a sequence takes its own filters, written right after it"],
        suggestion: "move them after the condition they narrow: when A on pid 7 then B on pid 7 within 5s",
      }),
    );
    ok = false;
  }
  const within = sequel.window ? durationOperand(ctx, sequel.window, "the sequence's window") : undefined;
  if (within?.kind === "const" && within.value === 0n) {
    ctx.report(error("E0162", sequel.window!.span, "the window must be longer than 0"));
    ok = false;
  }
  return { second: { condition: sequel.condition, filters: sequel.filters }, ...(within ? { within } : {}), ok: ok && within !== undefined };
}
