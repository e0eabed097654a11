// Parameters (`param pid: int = 1`) and their values from `--define`.
import { error } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type * as ast from "../syntax/ast.js";
import { durationNanoseconds } from "../syntax/build-ast.js";
import type { CheckedParam } from "./checked.js";
import type { CheckContext } from "./context.js";
import { checkText, describeType, inRange, literalValue, valueTypeOf, type ValueType } from "./values.js";

const PARAM_TYPES = ["int", "string", "duration"] as const;

/** Words SystemTap reserves: a parameter becomes a global of the same name (`stap -G NAME=…`). */
const SYSTEMTAP_RESERVED = new Set([
  "break", "catch", "continue", "delete", "else", "for", "foreach", "function", "global", "if", "in",
  "limit", "long", "next", "private", "probe", "return", "string", "try", "while", "stat",
]);

/** Parses a `--define` value for a parameter of `type`. */
export function parseDefine(type: ValueType, text: string): bigint | string | undefined {
  if (type === "string") return text;
  if (type === "int") return /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text) ? BigInt(text) : undefined;
  return durationNanoseconds(text);
}

export function declareParam(ctx: CheckContext, decl: ast.ParamDecl): void {
  const name = decl.name.name;
  const earlier = ctx.params.get(name);
  if (earlier) {
    ctx.report(error("E0110", decl.name.span, `parameter '${name}' is declared twice`, { notes: [`first declared on line ${earlier.span.start.line}`] }));
    return;
  }
  if (SYSTEMTAP_RESERVED.has(name) || name.startsWith("qt_")) {
    const why = name.startsWith("qt_") ? "names starting with 'qt_' are qtrip's own" : "SystemTap reserves that word";
    ctx.report(
      error("E0113", decl.name.span, `'${name}' cannot name a parameter: it becomes a SystemTap global, and ${why}`, {
        suggestion: `rename it, e.g. '${name}_value'`,
      }),
    );
    return;
  }
  const type = decl.type.name;
  if (!(PARAM_TYPES as readonly string[]).includes(type)) {
    const hint = didYouMean(type, PARAM_TYPES);
    ctx.report(error("E0111", decl.type.span, `unknown parameter type '${type}'; the types are int, string and duration`, hint ? { suggestion: hint } : {}));
    return;
  }
  const param: CheckedParam = { name, type: type as ValueType, source: "runtime", span: decl.span };
  const defined = ctx.options.defines?.get(name);
  if (defined !== undefined) bindDefine(ctx, param, decl, defined);
  else if (decl.default) bindDefault(ctx, param, decl.default);
  ctx.params.set(name, param);
}

function bindDefine(ctx: CheckContext, param: CheckedParam, decl: ast.ParamDecl, defined: string): void {
  const value = parseDefine(param.type, defined);
  if (value === undefined) {
    ctx.report(
      error("E0115", decl.name.span, `--define ${param.name}=${defined}: '${defined}' is not ${describeType(param.type)}`, {
        suggestion: param.type === "duration" ? `give a duration such as ${param.name}=200ms` : `give ${describeType(param.type)}`,
      }),
    );
  } else if (inRange(ctx, param.type, value, decl.name.span, `--define ${param.name}`)) {
    param.source = "define";
    param.value = value;
  }
}

function bindDefault(ctx: CheckContext, param: CheckedParam, given: ast.Value): void {
  const type = valueTypeOf(given, ctx.params);
  if (given.kind === "ParamRef") {
    ctx.report(error("E0112", given.span, "a parameter's default must be a literal, not another parameter"));
  } else if (type !== undefined && type !== param.type) {
    ctx.report(error("E0112", given.span, `the default of '${param.name}' must be ${describeType(param.type)}, not ${describeType(type)}`));
  } else if (type !== undefined) {
    const value = literalValue(given);
    if (inRange(ctx, param.type, value, given.span, "the default") && (param.type !== "string" || checkText(ctx, given as ast.StringLit, "parameter default"))) {
      param.source = "default";
      param.value = value;
    }
  }
}
