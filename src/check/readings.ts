// A number a condition reads and compares (`message "took %u ns" > 1ms`): its
// pattern read (stdlib/line-pattern.ts), and the comparison's value: a number
// (the digits as the line has them), or a duration when a unit follows %u.
import { error, type Span } from "../diagnostics/diagnostic.js";
import type { ErrorCode } from "../diagnostics/registry.js";
import type * as ast from "../syntax/ast.js";
import { LINE_UNITS, readLinePattern, type LinePatternProblem } from "../../stdlib/index.js";
import type { CheckedRule } from "./checked.js";
import type { CheckContext } from "./context.js";
import { operand, valueTypeOf } from "./values.js";

const PROBLEM_CODES: Record<LinePatternProblem["problem"], ErrorCode> = {
  "no placeholder": "E0190",
  "two placeholders": "E0191",
  "unknown directive": "E0192",
  unanchored: "E0194",
};

const UNIT_WORDS = Object.keys(LINE_UNITS).join(", ");

/** Where characters `start`..`end` of a string's decoded value are in its source text (escapes are two characters there). */
function spanInString(literal: ast.StringLit, start: number, end: number): Span {
  const raw: number[] = [];
  for (let i = 1; i < literal.text.length; i++) {
    raw.push(i);
    if (literal.text[i] === "\\") i++;
  }
  const at = (k: number): Span["start"] => {
    const offset = raw[k] ?? literal.text.length - 1;
    return { offset: literal.span.start.offset + offset, line: literal.span.start.line, column: literal.span.start.column + offset };
  };
  return { start: at(start), end: at(end) };
}

/** The comparison of a condition that reads a number from `literal`'s pattern; undefined after a diagnostic. */
export function checkReading(ctx: CheckContext, literal: ast.StringLit, comparison: ast.Comparison): CheckedRule["reading"] {
  const read = readLinePattern(literal.value);
  if (!("before" in read)) {
    ctx.report(error(PROBLEM_CODES[read.problem], spanInString(literal, read.start, read.end), read.message, read.suggestion ? { suggestion: read.suggestion } : {}));
    return undefined;
  }
  const value = comparison.value;
  const duration = valueTypeOf(value, ctx.params) === "duration";
  if (duration && !read.unit) {
    if (value.kind === "ParamRef") ctx.usedParams.add(value.name);
    const placeholder = [...literal.value.matchAll(/%%|%u/g)].find((m) => m[0] === "%u")!.index;
    ctx.report(
      error("E0193", value.span, "a duration, but the text gives the number no unit", {
        notes: [`a unit word right after %u makes it a duration: ${UNIT_WORDS}`],
        suggestion: `compare with a plain number, or name the line's unit after %u, e.g. "${literal.value.slice(0, placeholder + 2)} ns${literal.value.slice(placeholder + 2)}"`,
      }),
    );
    return undefined;
  }
  // A plain number compares with the digits as the line has them, whatever their unit; a duration, with what they measure.
  const checked = operand(ctx, value, duration ? "duration" : "int", "a threshold");
  if (!checked) return undefined;
  return { op: comparison.op, value: checked as NonNullable<CheckedRule["reading"]>["value"], ...(duration ? { unitNs: read.unit!.nanoseconds } : {}) };
}
