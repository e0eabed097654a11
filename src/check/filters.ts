// Filters (`on pid 1234 and comm "x"`): attributes the condition has, each
// once, with values of the attribute's type and within its bounds.
import { error } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type * as ast from "../syntax/ast.js";
import { ATTRIBUTE_NAMES, ATTRIBUTES, type Attribute, type AttributeInfo, type ConditionSpec } from "../../stdlib/index.js";
import { checkDeviceCaution } from "./cautions.js";
import type { CheckedFilter } from "./checked.js";
import type { CheckContext } from "./context.js";
import { checkText, operand, utf8Bytes } from "./values.js";

/** The filters written after one condition (a sequence's two conditions each have their own). */
export function checkFilters(ctx: CheckContext, written: ast.Filter[], entry: ConditionSpec | undefined): CheckedFilter[] {
  const filters: CheckedFilter[] = [];
  const seen = new Map<string, ast.Filter>();
  for (const filter of written) {
    const name = filter.attribute.name;
    if (!Object.hasOwn(ATTRIBUTES, name)) {
      const hint = didYouMean(name, ATTRIBUTE_NAMES);
      ctx.report(
        error("E0150", filter.attribute.span, `unknown filter '${name}'`, {
          ...(hint ? { suggestion: hint } : {}),
          notes: [`the filters are: ${ATTRIBUTE_NAMES.join(", ")}`],
        }),
      );
      continue;
    }
    const attribute = name as Attribute;
    if (entry && !entry.attributes.includes(attribute)) {
      ctx.report(
        error("E0151", filter.attribute.span, `'${entry.head}' conditions have no '${attribute}' to filter on`, {
          notes: [`'${entry.syntax}' takes: ${entry.attributes.join(", ")}`],
        }),
      );
      continue;
    }
    const first = seen.get(attribute);
    if (first) {
      ctx.report(
        error("E0153", filter.span, `'${attribute}' is filtered twice in one rule`, {
          notes: [`first on line ${first.span.start.line}; a task has one ${attribute}, so both cannot hold`],
          suggestion: "write one rule for each value",
        }),
      );
      continue;
    }
    seen.set(attribute, filter);
    const value = operand(ctx, filter.value, ATTRIBUTES[attribute].type, `'${attribute}'`);
    if (value && oneOfItsValues(ctx, attribute, filter.value, value) && valueInBounds(ctx, attribute, filter.value, value)) {
      if (attribute === "device" && entry?.subject === "block request") checkDeviceCaution(ctx, filter, value);
      filters.push({ attribute, value, span: filter.span });
    }
  }
  return filters;
}

/** An attribute with a fixed set of values (`context`): one of them, written in the rule, so a typo cannot reach the guest. */
function oneOfItsValues(ctx: CheckContext, attribute: Attribute, given: ast.Value, value: CheckedFilter["value"]): boolean {
  const values = (ATTRIBUTES[attribute] as AttributeInfo).values;
  if (!values) return true;
  const names = Object.keys(values);
  const notes = names.map((n) => `"${n}": ${values[n]}`);
  if (value.kind === "param" || given.kind === "ParamRef") {
    ctx.report(error("E0157", given.span, `'${attribute}' takes ${names.map((n) => `"${n}"`).join(" or ")}, written in the rule, not a parameter`, { notes }));
    return false;
  }
  if (typeof value.value === "string" && names.includes(value.value)) return true;
  const hint = didYouMean(String(value.value), names);
  ctx.report(
    error("E0157", given.span, `'${attribute}' is ${names.map((n) => `"${n}"`).join(" or ")}, not ${JSON.stringify(String(value.value))}`, {
      ...(hint ? { suggestion: hint.replace(/'/g, '"') } : {}),
      notes,
    }),
  );
  return false;
}

function valueInBounds(ctx: CheckContext, attribute: Attribute, given: ast.Value, value: CheckedFilter["value"]): boolean {
  if (value.kind !== "const") return true;
  const info: AttributeInfo = ATTRIBUTES[attribute];
  if (info.values) return true; // one of them: oneOfItsValues()
  if (typeof value.value === "bigint") {
    if (info.max === undefined || value.value <= info.max) return true;
    ctx.report(error("E0155", given.span, `${attribute} ${value.value} is out of range: at most ${info.max}`));
    return false;
  }
  const max = info.maxBytes!;
  if (given.kind === "String" && !checkText(ctx, given, attribute, max)) return false;
  if (given.kind !== "String" && utf8Bytes(value.value) > max) {
    ctx.report(error("E0154", given.span, `${attribute} '${value.value}' is ${utf8Bytes(value.value)} bytes; a ${attribute} has at most ${max}`));
    return false;
  }
  if (value.value === "") {
    ctx.report(error("E0156", given.span, `an empty ${attribute} matches nothing`));
    return false;
  }
  return true;
}
