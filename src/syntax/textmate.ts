// The TextMate grammar for .qt files (editor highlighting), generated from the
// lexer's keywords and the condition specs' words, so that it follows them.
import { ATTRIBUTE_NAMES, specs, KERNEL_EVENTS } from "../../stdlib/index.js";
import { keywords } from "./tokens.js";

function words(list: Iterable<string>): string {
  return `\\b(?:${[...new Set(list)].sort().join("|")})\\b`;
}

export function textMateGrammar(): object {
  const keywordWords = keywords.map((k) => String((k.PATTERN as RegExp).source));
  const statements = ["case", "title", "channel", "param", "when"];
  const conditionWords = specs.flatMap((e) => [e.head, ...e.pattern.flatMap((p) => ("word" in p ? [p.word] : []))]);
  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    name: "qtrip",
    scopeName: "source.qtrip",
    fileTypes: ["qt"],
    comment: "Generated from src/syntax/textmate.ts by `npm run generate`. Do not edit.",
    patterns: [
      { include: "#comment" },
      { include: "#string" },
      { include: "#duration" },
      { include: "#percent" },
      { include: "#number" },
      { include: "#parameter" },
      { include: "#keyword" },
      { include: "#code" },
      { include: "#condition" },
      { include: "#filter" },
      { include: "#name" },
      { include: "#operator" },
    ],
    repository: {
      comment: { name: "comment.line.number-sign.qtrip", match: "#.*$" },
      string: {
        name: "string.quoted.double.qtrip",
        begin: '"',
        end: '"|$',
        patterns: [
          { name: "constant.character.escape.qtrip", match: '\\\\["\\\\nt]' },
          // A number's placeholder and a literal '%' (`message "took %u ns" > 1ms`); in a plain message they are text, as any '%'.
          { name: "constant.other.placeholder.qtrip", match: "%[u%]" },
          { name: "invalid.illegal.escape.qtrip", match: "\\\\." },
        ],
      },
      duration: {
        match: "\\b([0-9]+(?:\\.[0-9]+)?)(ns|us|ms|s|m|h)\\b",
        captures: { 1: { name: "constant.numeric.duration.qtrip" }, 2: { name: "keyword.other.unit.qtrip" } },
      },
      // A share of time: `steal > 20% within 1s`.
      percent: {
        match: "\\b([0-9]+)(%)",
        captures: { 1: { name: "constant.numeric.percentage.qtrip" }, 2: { name: "keyword.other.unit.qtrip" } },
      },
      number: { name: "constant.numeric.integer.qtrip", match: "\\b(?:0[xX][0-9a-fA-F]+|[0-9]+)\\b" },
      parameter: { name: "variable.other.parameter.qtrip", match: "\\$[A-Za-z_][A-Za-z0-9_]*" },
      keyword: {
        patterns: [
          { name: "keyword.control.statement.qtrip", match: words(statements) },
          { name: "keyword.other.qtrip", match: words(keywordWords.filter((w) => !statements.includes(w))) },
          { name: "storage.type.qtrip", match: words(["int", "string", "duration"]) },
        ],
      },
      // The diagnostic codes an allowance names (`allow W0004`).
      code: { name: "constant.other.diagnostic-code.qtrip", match: "\\b[EW][0-9]{4}\\b" },
      condition: { name: "support.function.condition.qtrip", match: words(conditionWords) },
      filter: { name: "entity.other.attribute-name.filter.qtrip", match: words(ATTRIBUTE_NAMES) },
      name: {
        patterns: [
          { name: "support.constant.event.qtrip", match: words(KERNEL_EVENTS) },
          { name: "support.constant.name.qtrip", match: "\\b(?:SIG[A-Z0-9]+|E[A-Z0-9]+)\\b" },
        ],
      },
      operator: {
        patterns: [
          { name: "keyword.operator.comparison.qtrip", match: ">=|>" },
          { name: "keyword.operator.assignment.qtrip", match: "=" },
          { name: "punctuation.separator.qtrip", match: "[,:]" },
        ],
      },
    },
  };
}
