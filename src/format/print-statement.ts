// The canonical text of one statement: single spaces, a sequence's `then B
// within D` right after the first condition's filters, modifiers in the
// reference's order (N times within D, after, counting pauses, as), the allowance last.
// Literals keep their spelling.
import type * as ast from "../syntax/ast.js";

export function valueText(value: ast.Value): string {
  return value.kind === "ParamRef" ? `$${value.name}` : value.text;
}

function termText(term: ast.Term): string {
  return term.kind === "String" ? term.text : term.words.map((w) => w.name).join(", ");
}

const MODIFIER_ORDER: ast.Modifier["kind"][] = ["Count", "After", "Pauses", "Label"];

function modifierText(m: ast.Modifier): string {
  switch (m.kind) {
    case "Count":
      return `${valueText(m.times)} times within ${valueText(m.window)}`;
    case "After":
      return `after ${valueText(m.delay)}`;
    case "Pauses":
      return "counting pauses";
    case "Label":
      return `as ${m.label.text}`;
  }
}

function filtersText(filters: ast.Filter[]): string[] {
  return filters.length ? [`on ${filters.map((f) => `${f.attribute.name} ${valueText(f.value)}`).join(" and ")}`] : [];
}

/** A condition and the filters written after it: a rule's, or each of a sequence's. */
function conditionText(c: ast.Condition, filters: ast.Filter[]): string[] {
  const parts = [c.head.name, ...c.terms.map(termText)];
  if (c.comparison) parts.push(c.comparison.op, valueText(c.comparison.value), ...(c.comparison.within ? ["within", valueText(c.comparison.within)] : []));
  return [...parts, ...filtersText(filters)];
}

export function statementText(item: ast.Item): string {
  switch (item.kind) {
    case "Case":
      return `case ${item.id.text}`;
    case "Title":
      return `title ${item.text.text}`;
    case "Channel":
      return `channel port ${valueText(item.port)} value ${valueText(item.value)}`;
    case "Param":
      return `param ${item.name.name}: ${item.type.name}${item.default ? ` = ${valueText(item.default)}` : ""}`;
    case "Rule": {
      const parts = ["when", ...conditionText(item.condition, item.filters)];
      for (const sequel of item.sequels) {
        parts.push("then", ...(sequel.condition ? conditionText(sequel.condition, sequel.filters) : []));
        if (sequel.window) parts.push("within", valueText(sequel.window), ...filtersText(sequel.misplaced));
      }
      const modifiers = [...item.modifiers].sort((a, b) => MODIFIER_ORDER.indexOf(a.kind) - MODIFIER_ORDER.indexOf(b.kind));
      parts.push(...modifiers.map(modifierText));
      if (item.allowance) parts.push(`allow ${item.allowance.codes.map((c) => c.name).join(", ")}`);
      return parts.join(" ");
    }
  }
}
