// What a standard-library entry is: one condition of the language, described as
// data that the checker (its syntax and filters), the planner (its probes) and
// the documentation (`qtrip sources`, `qtrip explain`) read. The entries live in
// stdlib/, one file each.

/** Filter attributes (`on pid 1234`) and the type of value each takes. */
export const ATTRIBUTE_TYPES = {
  pid: "int",
  tid: "int",
  comm: "string",
  uid: "int",
  cpu: "int",
  device: "string",
} as const;
export type Attribute = keyof typeof ATTRIBUTE_TYPES;

/** Name tables a condition's words are checked against (stdlib/tables/). */
export type NameTable = "syscall" | "errno" | "signal" | "event";

/** One part of a condition's syntax after its head word. */
export type PatternPart =
  /** A literal word, e.g. `latency`. */
  | { word: string }
  /** `NAME {, NAME}` from a table, bound to `arg`; `optional` parts may be left out. */
  | { names: NameTable; arg: string; optional?: boolean; single?: boolean }
  /** A string literal bound to `arg`; `symbol` strings must be kernel symbol names. */
  | { string: string; symbol?: boolean };

/** Values bound by a condition's pattern: name lists resolved to numbers, strings as written. */
export interface ConditionArgs {
  names: Record<string, { name: string; number: number }[]>;
  strings: Record<string, string>;
}

/**
 * A latency measured while it lasts: a start probe records when something began
 * (keyed, e.g. by thread id), stop probes forget it, and a periodic scan trips on
 * anything older than the threshold — so a call that never ends still trips.
 */
export interface InflightCodegen {
  kind: "inflight";
  /** Conditions with the same table share its start and stop handlers. */
  table: string;
  start: {
    probe: string;
    /** SystemTap expression of the key that start and stop share. */
    key: string;
    /** SystemTap boolean expression that selects what to time, from the condition's arguments; undefined = everything. */
    select?: (args: ConditionArgs) => string | undefined;
  };
  /** Probes that end what start began, each with its key expression; the reason is a comment for the reader. */
  stops: { probe: string; key: string; reason: string }[];
  /** SystemTap expressions of the filter attributes, evaluated in the start probe. */
  attributes: Partial<Record<Attribute, string>>;
}

export type Codegen = InflightCodegen;

export interface ConditionEntry {
  /** Stable identifier, e.g. `syscall-latency`. */
  id: string;
  /** The syntax as the reference writes it. */
  syntax: string;
  /** When the condition holds, in the reference's words. */
  holds: string;
  head: string;
  pattern: PatternPart[];
  /** Whether the condition takes `> D` / `>= D` (a duration). */
  threshold: boolean;
  attributes: Attribute[];
  /** The probe points, for the reader: documentation only. */
  probes: string[];
  /** Kernel versions the probes are meant for. */
  kernels: string;
  /** Whether the probes need kernel debuginfo (the goal: none does). */
  debuginfo: boolean;
  /** Cost class and what fires how often. */
  cost: { class: "low" | "medium" | "high"; detail: string };
  /** One rule that uses it; must compile. */
  example: string;
  /** How to generate it; undefined while generation is not built yet. */
  codegen?: Codegen;
}
