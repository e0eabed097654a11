// The typed AST: plain data, every node with its span.
import type { Span } from "../diagnostics/diagnostic.js";

export interface RuleFile {
  kind: "File";
  span: Span;
  items: Item[];
  comments: Comment[];
}

export interface Comment {
  kind: "Comment";
  span: Span;
  /** The text after '#'. */
  text: string;
}

export type Item = CaseDecl | TitleDecl | ChannelDecl | ParamDecl | Rule;

export interface CaseDecl {
  kind: "Case";
  span: Span;
  id: StringLit;
}

export interface TitleDecl {
  kind: "Title";
  span: Span;
  text: StringLit;
}

export interface ChannelDecl {
  kind: "Channel";
  span: Span;
  port: Value;
  value: Value;
}

export type ParamType = "int" | "string" | "duration";

export interface ParamDecl {
  kind: "Param";
  span: Span;
  name: Word;
  /** As written; the checker refuses anything but int, string and duration. */
  type: Word;
  default?: Value;
}

export interface Rule {
  kind: "Rule";
  span: Span;
  condition: Condition;
  filters: Filter[];
  /** `then B within D`: the sequence's second part; the checker takes one and refuses a chain. */
  sequels: Sequel[];
  modifiers: Modifier[];
  allowance?: Allowance;
}

/**
 * `then B on … within D` (B with its own filters, and the window after the first condition). Its
 * parts are optional in the syntax so that the checker can say what is missing.
 */
export interface Sequel {
  kind: "Sequel";
  span: Span;
  /** The word `then`, where diagnostics about the sequence's form point. */
  keyword: { span: Span };
  condition?: Condition;
  filters: Filter[];
  window?: Value;
  /** Filters written after the window: refused, since they could narrow either condition. */
  misplaced: Filter[];
}

/** `allow W0004, W0005`: warnings the rule acknowledges, so that `qtrip check` does not repeat them. */
export interface Allowance {
  kind: "Allowance";
  span: Span;
  /** As written; the checker refuses error codes and reports unknown ones. */
  codes: Word[];
}

export interface Condition {
  kind: "Condition";
  span: Span;
  head: Word;
  /** What follows the head: comma-separated word groups and strings. */
  terms: Term[];
  comparison?: Comparison;
}

export type Term = WordGroup | StringLit;

export interface WordGroup {
  kind: "WordGroup";
  span: Span;
  words: Word[];
}

export interface Word {
  kind: "Word";
  span: Span;
  name: string;
}

export interface Comparison {
  kind: "Comparison";
  span: Span;
  op: ">" | ">=";
  /** The threshold; in a share (`> 20% within 1s`), the percentage: an Int written with its '%'. */
  value: Value;
  /** A share of time: the window it is a share of. */
  within?: Value;
}

export interface Filter {
  kind: "Filter";
  span: Span;
  attribute: Word;
  value: Value;
}

export type Modifier = CountModifier | AfterModifier | PausesModifier | LabelModifier;

export interface CountModifier {
  kind: "Count";
  span: Span;
  times: Value;
  window: Value;
}

export interface AfterModifier {
  kind: "After";
  span: Span;
  delay: Value;
}

/** `counting pauses`: the hypervisor's pauses of the whole guest count in the rule's durations. */
export interface PausesModifier {
  kind: "Pauses";
  span: Span;
}

export interface LabelModifier {
  kind: "Label";
  span: Span;
  label: StringLit;
}

export type Value = IntLit | DurationLit | StringLit | ParamRef | InvalidLit;

export interface IntLit {
  kind: "Int";
  span: Span;
  value: bigint;
  /** As written (decimal or 0x hex), kept for the formatter. */
  text: string;
}

export interface DurationLit {
  kind: "Duration";
  span: Span;
  nanoseconds: bigint;
  text: string;
}

export interface StringLit {
  kind: "String";
  span: Span;
  /** The decoded value. */
  value: string;
  /** As written, with quotes and escapes. */
  text: string;
}

export interface ParamRef {
  kind: "ParamRef";
  span: Span;
  name: string;
}

/** A literal already reported as malformed; later passes skip it silently. */
export interface InvalidLit {
  kind: "Invalid";
  span: Span;
  text: string;
}

export type Node = RuleFile | Item | Sequel | Condition | Term | Word | Comparison | Filter | Modifier | Allowance | Value | Comment;
