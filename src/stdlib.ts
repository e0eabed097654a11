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
 * A latency measured while it lasts: start probes record when something began
 * (keyed, e.g. by thread id), stop probes forget it, and a periodic scan trips
 * on anything older than the threshold — so a call that never ends still trips.
 */
export interface InflightCodegen {
  kind: "inflight";
  /** Rules with the same table share its start and stop handlers; different tables never share keys. */
  table: string;
  start: {
    /** Probe points, joined as one handler: they must offer the same context variables. */
    probes: string[];
    /** SystemTap expression of the key that start and stop share. */
    key: string;
    /** SystemTap boolean expression selecting what to time; undefined = everything. */
    select?: string;
  };
  /** Probes that end what start began, each with its key; the reason is a comment for the reader. */
  stops: { probe: string; key: string; reason: string }[];
  /** SystemTap expressions of the filter attributes, evaluated in the start probes. */
  attributes: Partial<Record<Attribute, string>>;
}

/** What the event emitter offers a condition's test. */
export interface EventContext {
  /** `value` exceeds the rule's threshold (`>` or `>=`, constant or parameter). */
  exceeds(value: string): string;
}

/** A condition seen at one probe point, tested where it fires. */
export interface EventCodegen {
  kind: "event";
  probe: string;
  /** Statements run once at the top of the probe's handler, before any rule's test (shared, deduplicated). */
  prelude?: string[];
  /** The condition as a SystemTap boolean expression; undefined = the probe firing is the condition. */
  test?: (ctx: EventContext) => string;
  /** SystemTap expressions of the filter attributes, evaluated in the probe. */
  attributes: Partial<Record<Attribute, string>>;
  /** Further probes the condition needs, whatever the rule (e.g. tracking idle CPUs). */
  helpers?: { probe: string; body: string[]; reason: string }[];
}

export type Codegen = InflightCodegen | EventCodegen;

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
  /** What to generate for one rule's arguments. */
  codegen: (args: ConditionArgs) => Codegen;
}
