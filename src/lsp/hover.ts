// Hover: on a name from a table, its entry (system call number, errno number
// and meaning, signal number); on a `$param`, its declaration; on a code in an
// allowance, the warning it names; on the text of a message that compares a
// number, how its pattern reads a line; anywhere else in a rule, what `qtrip
// explain` says about it (or, while the file has errors, the condition's
// syntax and meaning).
import { MarkupKind, type Hover } from "vscode-languageserver";
import { itemAt, nodeAt, paramDecl } from "./ast-walk.js";
import { specs, explain, readLinePattern, WARNINGS, type CheckedFile, type Condition, type ParamRef, type Rule, type Term as AstTerm, type Word } from "./compiler.js";
import type { Analysis } from "./document.js";
import { nextAfter, type PatternTerm } from "./pattern.js";
import { toRange } from "./positions.js";
import { lookUp, nameHover } from "./tables.js";

function markdown(value: string, word?: Word | ParamRef): Hover {
  return { contents: { kind: MarkupKind.Markdown, value }, ...(word ? { range: toRange(word.span) } : {}) };
}

/** The condition's terms before `word`, as the pattern walk takes them: its own list open before it. */
function termsBefore(terms: readonly AstTerm[], word: Word): PatternTerm[] {
  const before: PatternTerm[] = [];
  for (const term of terms) {
    if (term.kind === "String") {
      before.push({ kind: "string" });
      continue;
    }
    const at = term.words.indexOf(word);
    if (at === 0) return before;
    if (at > 0) return [...before, { kind: "words", words: term.words.slice(0, at).map((w) => w.name), open: true }];
    before.push({ kind: "words", words: term.words.map((w) => w.name) });
  }
  return before;
}

/** The rule's conditions: its one, or a sequence's two (`when A then B within D`). */
function conditions(rule: Rule): Condition[] {
  return [rule.condition, ...rule.sequels.flatMap((s) => (s.condition ? [s.condition] : []))];
}

function nameInCondition(rule: Rule, offset: number): Hover | undefined {
  const holds = (w: Word) => w.span.start.offset <= offset && offset <= w.span.end.offset;
  const condition = conditions(rule).find((c) => c.terms.some((t) => t.kind === "WordGroup" && t.words.some(holds)));
  const word = condition?.terms.flatMap((t) => (t.kind === "WordGroup" ? t.words : [])).find(holds);
  if (!condition || !word) return undefined;
  const { tables } = nextAfter(condition.head.name, termsBefore(condition.terms, word));
  const table = tables.find((t) => lookUp(t, word.name) !== undefined);
  const text = table && nameHover(table, word.name);
  return text ? markdown(text, word) : undefined;
}

/** `qtrip explain`'s paragraph for one rule, and what the host does on its trip. */
function explainRule(checked: CheckedFile, rule: Rule, fileName: string): string | undefined {
  const one = checked.rules.find((r) => r.span.start.offset === rule.span.start.offset);
  if (!one) return undefined;
  const text = explain({ ...checked, rules: [one] }, { fileName, dryRun: false });
  // Its first lines count the file's rules: this is about one.
  return text.split("\n").slice(3).join("\n").trim();
}

/** On a code of the rule's allowance: what the warning is, and that the rule allows it. */
function allowedCode(rule: Rule, offset: number): Hover | undefined {
  const code = rule.allowance?.codes.find((c) => c.span.start.offset <= offset && offset <= c.span.end.offset);
  if (!code) return undefined;
  if (!Object.hasOwn(WARNINGS, code.name)) return markdown(`**${code.name}**: not a warning code of qtrip (only warnings can be allowed)`, code);
  return markdown(`**${code.name}**: ${WARNINGS[code.name]}\n\nAllowed on this rule: \`qtrip check\` does not warn about it here.`, code);
}

/** The condition under the cursor: a sequence's second one past its `then`, else the rule's first. */
function conditionAt(rule: Rule, offset: number): Condition {
  return rule.sequels.filter((s) => s.span.start.offset <= offset && s.condition).at(-1)?.condition ?? rule.condition;
}

/** On the text of `message "… %u …" > N`: how the pattern reads a line, or what is wrong with it. */
function linePattern(rule: Rule, offset: number): Hover | undefined {
  const condition = conditionAt(rule, offset);
  const text = condition.terms.find((t) => t.kind === "String" && t.span.start.offset <= offset && offset <= t.span.end.offset);
  if (!text || text.kind !== "String" || !condition.comparison || !specs.some((e) => e.head === condition.head.name && e.reads)) return undefined;
  const read = readLinePattern(text.value);
  if (!("before" in read)) return { ...markdown(`**pattern**: ${read.message}`), range: toRange(text.span) };
  const unit = read.unit ? `, in ${read.unit.word} (compared with a duration as that many ${read.unit.word}; with a plain number, as written)` : " (no unit: compared with a plain number)";
  const lines = [
    `**pattern**: a line with ${JSON.stringify(read.before)}, then decimal digits${read.after ? `, then ${JSON.stringify(read.after)}` : ""}, at the first place it has them all.`,
    `The number: the digits, unsigned, at most 64 bits${unit}. A line without them, or with more digits than 64 bits hold, does not match.`,
  ];
  return { ...markdown(lines.join("\n\n")), range: toRange(text.span) };
}

/** The syntax and meaning of the condition under the cursor. */
function conditionSummary(rule: Rule, offset: number): string | undefined {
  const entries = specs.filter((e) => e.head === conditionAt(rule, offset).head.name);
  return entries.length ? entries.map((e) => `\`${e.syntax}\`: ${e.holds}`).join("\n\n") : undefined;
}

export function hover(analysis: Analysis, offset: number): Hover | null {
  const { ast, checked } = analysis.result;
  const item = itemAt(ast, offset);
  if (!item) return null;
  const ref = nodeAt<ParamRef>(item, offset, "ParamRef");
  if (ref) {
    const decl = paramDecl(ast, ref.name);
    const declared = decl ? analysis.text.slice(decl.span.start.offset, decl.span.end.offset) : `no parameter '${ref.name}' is declared`;
    return markdown(`\`\`\`qtrip\n${declared}\n\`\`\``, ref);
  }
  if (item.kind !== "Rule") return null;
  const name = nameInCondition(item, offset) ?? allowedCode(item, offset) ?? linePattern(item, offset);
  if (name) return name;
  const explained = checked && explainRule(checked, item, analysis.fileName);
  if (explained) return markdown(`\`\`\`text\n${explained}\n\`\`\``);
  const summary = conditionSummary(item, offset);
  return summary ? markdown(`${summary}\n\n(fix the file's errors for \`qtrip explain\`'s full account)`) : null;
}
