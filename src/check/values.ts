// Values: literals and `$param` references, their types, ranges and texts.
import { error, type Span } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type * as ast from "../syntax/ast.js";
import type { CheckedParam, Operand } from "./checked.js";
import type { CheckContext } from "./context.js";
import * as limits from "./limits.js";

export type ValueType = "int" | "string" | "duration";

export function valueTypeOf(value: ast.Value, params: Map<string, CheckedParam>): ValueType | undefined {
  switch (value.kind) {
    case "Int":
      return "int";
    case "Duration":
      return "duration";
    case "String":
      return "string";
    case "ParamRef":
      return params.get(value.name)?.type;
    case "Invalid":
      return undefined;
  }
}

export function describeType(type: ValueType): string {
  return type === "int" ? "a number" : type === "duration" ? "a duration" : "a string";
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function literalValue(value: ast.IntLit | ast.DurationLit | ast.StringLit | ast.Value): bigint | string {
  switch (value.kind) {
    case "Int":
      return value.value;
    case "Duration":
      return value.nanoseconds;
    case "String":
      return value.value;
    default:
      throw new Error(`no literal value for ${value.kind}`);
  }
}

export function inRange(ctx: CheckContext, type: ValueType, value: bigint | string, span: Span, what: string): boolean {
  if (type === "duration" && typeof value === "bigint" && value > limits.MAX_NANOSECONDS) {
    ctx.report(error("E0170", span, `${what} is too long a duration: at most about 292 years`));
    return false;
  }
  if (type === "int" && typeof value === "bigint" && value > limits.MAX_NANOSECONDS) {
    ctx.report(error("E0171", span, `${what} is too large a number: at most ${limits.MAX_NANOSECONDS}`));
    return false;
  }
  return true;
}

/** Strings copied into headers and logs: printable text of bounded length. */
export function checkText(ctx: CheckContext, text: ast.StringLit, what: string, maxBytes = limits.MAX_TEXT_BYTES, allowTab = false): boolean {
  const control = [...text.value].find((ch) => {
    const code = ch.codePointAt(0)!;
    return (code < 0x20 && !(allowTab && ch === "\t")) || code === 0x7f || (code >= 0x80 && code < 0xa0);
  });
  if (control !== undefined) {
    const shown = JSON.stringify(control).slice(1, -1);
    ctx.report(error("E0102", text.span, `the ${what} contains a control character ('${shown}')`, { suggestion: "use printable text on one line" }));
    return false;
  }
  if (utf8Bytes(text.value) > maxBytes) {
    ctx.report(error("E0103", text.span, `the ${what} is ${utf8Bytes(text.value)} bytes long; at most ${maxBytes}`));
    return false;
  }
  return true;
}

export function durationOperand(ctx: CheckContext, value: ast.Value, what: string): Operand<bigint> | undefined {
  if (value.kind === "Int") {
    ctx.report(
      error("E0121", value.span, `${what} must be a duration, not a bare number`, {
        suggestion: `give its unit: '${value.text}ms' or '${value.text}s'`,
      }),
    );
    return undefined;
  }
  return operand(ctx, value, "duration", what) as Operand<bigint> | undefined;
}

/** A value of `type`: a literal, or a declared parameter of that type (marked used). */
export function operand(ctx: CheckContext, value: ast.Value, type: ValueType, what: string): Operand<bigint> | Operand<string> | undefined {
  if (value.kind === "Invalid") return undefined;
  if (value.kind === "ParamRef") {
    const param = ctx.params.get(value.name);
    if (!param) {
      const hint = didYouMean(value.name, ctx.params.keys());
      ctx.report(
        error("E0120", value.span, `unknown parameter '$${value.name}'`, {
          suggestion: hint ? hint.replace("'", "'$") : `declare it: param ${value.name}: ${type}`,
        }),
      );
      return undefined;
    }
    ctx.usedParams.add(param.name);
    if (param.type !== type) {
      ctx.report(
        error("E0121", value.span, `${what} must be ${describeType(type)}, but '$${param.name}' is ${describeType(param.type)}`, {
          notes: [`'${param.name}' is declared on line ${param.span.start.line}`],
        }),
      );
      return undefined;
    }
    if (param.value !== undefined) return { kind: "const", value: param.value } as Operand<bigint> | Operand<string>;
    return { kind: "param", name: param.name, type: param.type };
  }
  const actual = valueTypeOf(value, ctx.params)!;
  if (actual !== type) {
    ctx.report(error("E0121", value.span, `${what} must be ${describeType(type)}, not ${describeType(actual)}`));
    return undefined;
  }
  const literal = literalValue(value);
  if (!inRange(ctx, type, literal, value.span, what)) return undefined;
  return { kind: "const", value: literal } as Operand<bigint> | Operand<string>;
}
