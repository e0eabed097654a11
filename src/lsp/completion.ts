// Completion: condition head words after `when`, names from the system call,
// errno, signal and event tables where the condition takes them, the filter
// attributes of the condition at hand after `on`/`and`, the values of an
// attribute that has a fixed set of them (`context`), the file's `$param`s,
// units after a number that is a duration, `then`, `counting pauses` (where the
// condition's durations take it) and `allow` where a rule may end, a condition
// again after `then`, and after `allow` the warning codes it may name.
import { CompletionItemKind, type CompletionItem, type Range } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { ABOUT_ALLOWANCES, ATTRIBUTES, specs, readLinePattern, tables, WARNINGS, type NameTable, type ParamDecl } from "./compiler.js";
import type { Analysis } from "./document.js";
import { fittingEntries, nextAfter, type PatternTerm } from "./pattern.js";
import { cursorContext, STATEMENT_KEYWORDS, type Token } from "./scan.js";
import { describeName } from "./tables.js";

export const UNITS: [string, string][] = [
  ["ns", "nanoseconds"],
  ["us", "microseconds"],
  ["ms", "milliseconds"],
  ["s", "seconds"],
  ["m", "minutes"],
  ["h", "hours"],
];

/** Words after which a number is a duration. */
const BEFORE_DURATION = new Set([">", ">=", "within", "after"]);
/** Words that end a rule's condition: its threshold, filters and modifiers follow. */
const AFTER_CONDITION = new Set([">", ">=", "on", "then", "times", "within", "after", "counting", "pauses", "as", "allow"]);
/** Words that start a rule's modifiers: a sequence's `then` comes before them. */
const MODIFIER_WORDS = ["times", "after", "counting", "as"];
const PARAM_TYPES = ["int", "string", "duration"];

const TABLE_KIND: Record<NameTable, CompletionItemKind> = {
  syscall: CompletionItemKind.Function,
  errno: CompletionItemKind.Constant,
  signal: CompletionItemKind.Constant,
  event: CompletionItemKind.Event,
  direction: CompletionItemKind.EnumMember,
};

function item(label: string, kind: CompletionItemKind, range: Range, extra: Partial<CompletionItem> = {}): CompletionItem {
  return { label, kind, textEdit: { range, newText: label }, ...extra };
}

function heads(range: Range): CompletionItem[] {
  return [...new Set(specs.map((e) => e.head))].map((head) => {
    const entries = specs.filter((e) => e.head === head);
    return item(head, CompletionItemKind.Keyword, range, {
      detail: entries.map((e) => e.syntax).join(" | "),
      documentation: entries.map((e) => `${e.syntax}: ${e.holds}`).join("\n"),
    });
  });
}

function names(table: NameTable, range: Range): CompletionItem[] {
  return Object.keys(tables[table]).map((name) => item(name, TABLE_KIND[table], range, { detail: describeName(table, name) }));
}

function params(analysis: Analysis, range: Range): CompletionItem[] {
  const declared = analysis.result.ast.items.filter((i): i is ParamDecl => i.kind === "Param");
  return declared.map((p) => {
    const fallback = p.default ? ` = ${analysis.text.slice(p.default.span.start.offset, p.default.span.end.offset)}` : "";
    return item(`$${p.name.name}`, CompletionItemKind.Variable, range, { detail: `param ${p.name.name}: ${p.type.name}${fallback}` });
  });
}

function units(current: Token, range: Range): CompletionItem[] {
  const number = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?)/.exec(current.text)?.[0];
  if (number === undefined) return [];
  return UNITS.map(([unit, words]) =>
    item(`${number}${unit}`, CompletionItemKind.Unit, range, { detail: words, filterText: `${number}${unit}` }),
  );
}

/** The rule's condition terms after its head (`read, write` one list), up to where its threshold, filters or modifiers start. */
function conditionTerms(tokens: Token[]): { terms: PatternTerm[]; ended: boolean } {
  const terms: PatternTerm[] = [];
  for (const t of tokens) {
    if (AFTER_CONDITION.has(t.text) || t.kind === "number" || t.kind === "param") return { terms, ended: true };
    const last = terms.at(-1);
    const list = last?.kind === "words" && last.open ? last : undefined;
    if (t.kind === "word") {
      if (list) terms[terms.length - 1] = { kind: "words", words: [...list.words, t.text] };
      else terms.push({ kind: "words", words: [t.text] });
    } else if (t.kind === "string" && !list) terms.push({ kind: "string" });
    else if (t.text === "," && last?.kind === "words" && !list) terms[terms.length - 1] = { ...last, open: true };
    else return { terms, ended: true };
  }
  return { terms, ended: false };
}

function inRule(rest: Token[], current: Token | undefined, range: Range, sequence = false): CompletionItem[] {
  if (rest.length === 0) return heads(range);
  // After `then` comes a second condition, with filters of its own: complete it as a rule's.
  const thenAt = rest.findLastIndex((t) => t.kind === "word" && t.text === "then");
  if (thenAt >= 0) return inRule(rest.slice(thenAt + 1), current, range, true);
  const head = rest[0].text;
  const { terms, ended } = conditionTerms(rest.slice(1));
  if (!ended) {
    const next = nextAfter(head, terms);
    return [...next.words.map((w) => item(w, CompletionItemKind.Keyword, range)), ...next.tables.flatMap((t) => names(t, range))];
  }
  const last = rest.at(-1)!;
  const allowAt = rest.findIndex((t) => t.kind === "word" && t.text === "allow");
  if (allowAt >= 0) return last.text === "allow" || last.text === "," ? warningCodes(rest.slice(allowAt + 1), range) : [];
  if (last.text === "on" || last.text === "and") {
    const attributes = [...new Set(fittingEntries(head, terms).flatMap((e) => e.attributes))];
    return attributes.map((a) => item(a, CompletionItemKind.Property, range, { detail: `filter on ${a}` }));
  }
  // A share of time (`steal > 20% within 1s`): the percentage, then its window.
  if (specs.some((e) => e.head === head && e.share)) {
    const number = current?.kind === "number" && /^\d+$/.exec(current.text)?.[0];
    if (number && (last.text === ">" || last.text === ">=")) return [item(`${number}%`, CompletionItemKind.Unit, range, { detail: "percent of the window (then: within D)" })];
    if (last.text.endsWith("%")) return [item("within", CompletionItemKind.Keyword, range, { detail: "within D: the sliding window the share is of" })];
  }
  if (last.text === "counting") return [item("pauses", CompletionItemKind.Keyword, range, { detail: COUNTING_PAUSES })];
  if (current?.kind === "number" && BEFORE_DURATION.has(last.text) && !unitlessNumber(rest)) return units(current, range);
  const before = rest.at(-2)?.text;
  if (before === "on" || before === "and") return attributeValues(last.text, range);
  if (!endsValue(rest)) return [];
  const allow = item("allow", CompletionItemKind.Keyword, range, { detail: "allow CODE {, CODE}: warnings this rule gets on purpose" });
  const then = item("then", CompletionItemKind.Keyword, range, { detail: "then CONDITION within D: the second condition counts only within D after this one" });
  // Where the condition's durations take it (its spec says so), and not given yet.
  const pauses =
    fittingEntries(head, terms).some((e) => e.pausesCountable) && !rest.some((t) => t.text === "counting")
      ? [item("counting pauses", CompletionItemKind.Keyword, range, { detail: COUNTING_PAUSES })]
      : [];
  // `then` comes before the rule's modifiers (N times within D, after, counting pauses, as).
  if (!sequence) return rest.some((t) => MODIFIER_WORDS.includes(t.text)) ? [allow, ...pauses] : [then, allow, ...pauses];
  // The sequence's window comes right after its second condition; the rule's modifiers and allowance after it.
  const within = item("within", CompletionItemKind.Keyword, range, { detail: "within D: how long after the first condition this one counts" });
  return rest.some((t) => t.text === "within") ? [allow, ...pauses] : [within];
}

/** A comparison with a number read from a log line whose pattern gives it no unit (`message "depth %u" > 5`): no duration there. */
function unitlessNumber(rest: Token[]): boolean {
  const text = rest[1]?.kind === "string" ? rest[1].text.replace(/^"|"$/g, "") : undefined;
  if (text === undefined || ![">", ">="].includes(rest[2]?.text ?? "") || !specs.some((e) => e.head === rest[0].text && e.reads)) return false;
  const read = readLinePattern(text);
  return !("before" in read) || read.unit === undefined;
}

const COUNTING_PAUSES = "counting pauses: the hypervisor's pauses of the whole guest count in this rule's durations";

/** Whether the rule's last token ends a threshold, a filter or a modifier: the rule may end there. */
function endsValue(rest: Token[]): boolean {
  const [before2, before, last] = [rest.at(-3)?.text, rest.at(-2)?.text, rest.at(-1)!];
  if (last.text === "pauses" && before === "counting") return true;
  if (last.kind !== "number" && last.kind !== "string" && last.kind !== "param") return false;
  return [">", ">=", "within", "after", "as"].includes(before ?? "") || before2 === "on" || before2 === "and";
}

/** The warning codes an allowance may name, but those it lists already. */
function warningCodes(listed: Token[], range: Range): CompletionItem[] {
  const taken = new Set(listed.map((t) => t.text));
  return Object.entries(WARNINGS)
    .filter(([code]) => !taken.has(code) && !ABOUT_ALLOWANCES.includes(code))
    .map(([code, title]) => item(code, CompletionItemKind.Constant, range, { detail: title }));
}

/** The values of an attribute that takes only a few (`context "kernel"`), as strings. */
function attributeValues(attribute: string, range: Range): CompletionItem[] {
  const info = Object.hasOwn(ATTRIBUTES, attribute) ? (ATTRIBUTES[attribute as keyof typeof ATTRIBUTES] as { values?: Record<string, string> }) : undefined;
  return Object.entries(info?.values ?? {}).map(([value, doc]) => item(`"${value}"`, CompletionItemKind.EnumMember, range, { detail: doc }));
}

export function complete(document: TextDocument, analysis: Analysis, offset: number): CompletionItem[] {
  const { statement, current, inText } = cursorContext(analysis.text, offset);
  if (inText) return [];
  const range: Range = { start: document.positionAt(current?.start ?? offset), end: document.positionAt(offset) };
  if (current?.kind === "param") return params(analysis, range);
  const lineStart = analysis.text.lastIndexOf("\n", (current?.start ?? offset) - 1) + 1;
  const atLineStart = /^\s*$/.test(analysis.text.slice(lineStart, current?.start ?? offset));
  const keywords = atLineStart ? STATEMENT_KEYWORDS.map((k) => item(k, CompletionItemKind.Keyword, range)) : [];
  const [keyword, ...rest] = statement;
  if (keyword?.text === "when") return [...inRule(rest, current, range), ...(rest.length > 0 ? keywords : [])];
  if (keyword?.text === "param") {
    const last = rest.at(-1);
    if (last?.text === ":") return PARAM_TYPES.map((t) => item(t, CompletionItemKind.TypeParameter, range));
    if (last?.text === "=" && current?.kind === "number" && rest.some((t) => t.text === "duration")) return units(current, range);
  }
  return keywords;
}
