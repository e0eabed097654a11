// The checker's output: a rule file with names resolved, values typed and
// parameters bound. This is what the planner reads.
import type { Span } from "../diagnostics/diagnostic.js";
import type { ParamType } from "../syntax/ast.js";
import type { Attribute, ConditionArgs, ConditionSpec } from "../../stdlib/index.js";

/** A value known when compiling, or a parameter given when the guest script starts (`stap -G`). */
export type Operand<T> = { kind: "const"; value: T } | { kind: "param"; name: string; type: ParamType };

export interface CheckedParam {
  name: string;
  type: ParamType;
  /** Where its value comes from: `--define`, the default, or `stap -G` at run time. */
  source: "define" | "default" | "runtime";
  /** int: the number; duration: nanoseconds; string: the text. Absent for run-time parameters. */
  value?: bigint | string;
  span: Span;
}

export interface CheckedFilter {
  attribute: Attribute;
  value: Operand<bigint> | Operand<string>;
  span: Span;
}

export interface CheckedRule {
  /** Position among the file's rules, from 0. */
  index: number;
  line: number;
  /** What the guest logs when this rule trips: `as "…"`, else `file.qt:LINE`. */
  label: string;
  /** The rule's source text, for comments in the generated script. */
  source: string;
  span: Span;
  entry: ConditionSpec;
  args: ConditionArgs;
  threshold?: { op: ">" | ">="; nanoseconds: Operand<bigint> };
  /**
   * A number the condition reads where it happens, compared (`message "took %u ns" > 1ms`):
   * `value` is a plain number, or a duration in ns when the number has a unit of `unitNs` ns.
   */
  reading?: { op: ">" | ">="; value: Operand<bigint>; unitNs?: bigint };
  filters: CheckedFilter[];
  count?: { times: Operand<bigint>; window: Operand<bigint> };
  after?: Operand<bigint>;
  /**
   * `counting pauses`: the hypervisor's pauses of the whole guest count in the durations this
   * rule compares with its threshold (by default they count nowhere). Set only on conditions
   * whose spec says `pausesCountable`; in a sequence, B's.
   */
  countsPauses?: true;
  /** The warning codes its allowance (`allow W0004`) silenced. */
  allows?: string[];
  /**
   * `when A then B within D`: this rule's condition, threshold and filters are B's; `first` is A,
   * a part of its own (its index comes after the file's rules) that never trips: each time it
   * holds it opens the window in which B may trip, D long.
   */
  sequence?: { first: CheckedRule; within: Operand<bigint> };
}

/**
 * Every part the guest script watches, by index: the file's rules, then each sequence's first
 * condition. A part's index is its bit in masks and its slot in per-rule tables.
 */
export function ruleParts(file: CheckedFile): CheckedRule[] {
  return [...file.rules, ...file.rules.flatMap((r) => (r.sequence ? [r.sequence.first] : []))];
}

export interface Channel {
  port: number;
  value: number;
}

export const DEFAULT_CHANNEL: Channel = { port: 0x3ff, value: 0x1f };

export interface CheckedFile {
  caseId?: string;
  title?: string;
  channel: Channel;
  params: CheckedParam[];
  rules: CheckedRule[];
}
