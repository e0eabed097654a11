// What a condition of the language is: its syntax, its meaning in the
// reference's words, and what it needs from a backend — guest events and tests
// at them, in the kernel's terms and no tracer's syntax. The checker, the
// planner, `explain` and `qtrip sources` read these; the conditions themselves
// live one per file beside this one.
import { SUBJECTS, type Attribute, type Subject } from "./attributes.js";
import type { EventName } from "./events.js";
import type { KernelEvent } from "./kernel-events.js";

/** Name tables a condition's words are checked against (stdlib/tables/). */
export type NameTable = "syscall" | "errno" | "signal" | "event" | "direction";

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
  /** A share of time (`> 20% within D`, `>= 20% …`): the percentage; the window is the rule's threshold. */
  share?: { percent: number; inclusive: boolean };
}

/** One event a condition observes, with what it carries. */
export interface GuestEvent {
  on: EventName;
  /** function-entry, function-return: the function, "[MODULE:]NAME". */
  symbol?: string;
  /** kernel-event: which one. */
  kernelEvent?: KernelEvent;
  /** tcp-connection-reset: only the resets the guest sends, or only those it receives (absent: both). */
  direction?: "sent" | "received";
}

/** A test at an event, in the condition's terms; every backend lowers each kind. */
export type Selection =
  /** syscall-enter, syscall-exit: the call is one of these x86_64 numbers (a 32-bit task's numbers mean other calls: never). */
  | { kind: "syscall-is"; numbers: number[] }
  /** syscall-exit: the call failed, with one of these errnos (none listed: any error; the kernel's internal restart codes are not errors). */
  | { kind: "syscall-failed"; errnos: number[] }
  /** console-line: the line contains one of the texts (qtrip's own lines never count). */
  | { kind: "line-contains"; texts: string[] }
  /** console-line: the line begins with one of the texts (after its log level), as the kernel's own report does. */
  | { kind: "line-starts"; texts: string[] }
  /**
   * console-line: the line has `before`, decimal digits and `after`, and the number those digits
   * make (at the first such place) holds the rule's comparison. A line without one, or whose
   * number needs more than 64 bits, does not hold it. qtrip's own lines never count.
   */
  | { kind: "line-number"; before: string; after: string }
  /**
   * console-line: the line was logged from the kernel's own context: a kernel thread or any
   * interrupt ("kernel"), or a hard interrupt only ("hard interrupt"). A user task's system
   * call or fault is neither, however its name or its files are called.
   */
  | { kind: "logged-from"; context: "kernel" | "hard interrupt" }
  /** signal-sent: the signal is this one and was queued for delivery. */
  | { kind: "signal-is"; number: number }
  /**
   * cpu-tick: the time since this CPU's previous tick exceeds the rule's threshold (time spent idle does not count):
   * seen from another CPU while the gap lasts, as progress-watched is, and at this CPU's first tick back.
   */
  | { kind: "tick-interval-exceeds" }
  /**
   * cpu-tick: this CPU made progress. Never holds where it is seen: another CPU watches the
   * progress, and trips when this one has made none for longer than the rule's threshold.
   */
  | { kind: "progress-watched" }
  /**
   * net-transmit: the device's first transmit since it last received anything is older than the
   * rule's threshold. Seen at its transmits only: no timer watches a device that stopped sending too.
   */
  | { kind: "receive-silence-exceeds" }
  /** timer-expires: the timer runs later than its hard expiry time by more than the rule's threshold. */
  | { kind: "expired-late" }
  /** The hypervisor paused the whole guest and let it run again (kvm-clock's record steps); true once per resume. */
  | { kind: "vm-resumed" }
  /**
   * cpu-tick: the steal time the kernel accounted to this CPU within the rule's window (its
   * threshold) is above (`inclusive`: at least) `percent` of the window; or the counter jumped by
   * more than the time that passed.
   */
  | { kind: "steal-share"; percent: number; inclusive: boolean };

/**
 * A duration measured while it lasts: a start event records when something
 * began, keyed by what it identifies; stop events forget it; anything still in
 * flight past the threshold trips, so a call that never ends still trips.
 */
export interface InflightNeeds {
  kind: "inflight";
  /** Rules with the same table share its start and stop events. */
  table: string;
  start: GuestEvent & { select?: Selection[] };
  /** What ends what start began; the reason is a comment for the reader of the script. */
  stops: (GuestEvent & { reason: string })[];
}

/** A condition seen at one event, tested where it happens. */
export interface EventNeeds {
  kind: "event";
  at: GuestEvent;
  select?: Selection[];
}

export type Needs = InflightNeeds | EventNeeds;

export interface ConditionSpec {
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
  /**
   * The condition compares a number it reads (`> N`, or `> D` when the number is a duration):
   * the string `pattern` says where it is (stdlib/line-pattern.ts). Such a condition takes no `threshold`.
   */
  reads?: { pattern: string };
  /**
   * The condition compares a share of a sliding window of time (`> P% within D`), not a duration:
   * the window D becomes the rule's threshold, and must be at least `leastWindow` ns.
   */
  share?: { leastWindow: bigint; why: string };
  /** The least threshold that means anything, and why (a smaller constant one is an error). */
  leastThreshold?: { nanoseconds: bigint; why: string };
  /** Whose attributes the filters test; they are the condition's filters. */
  subject: Subject;
  attributes: readonly Attribute[];
  /** For `explain`: "Watches <this>". */
  watches: (args: ConditionArgs) => string;
  /** For `explain`, conditions seen at an event that take a threshold: "Trips <this>". */
  tripsWhen?: (limit: string) => string;
  /** Cost class and what happens how often. */
  cost: { class: "low" | "medium" | "high"; detail: string };
  /** What the condition does not see, or sees differently, whatever the kernel. */
  caveats: string[];
  /** One rule that uses it; must compile. */
  example: string;
  /**
   * Names of a name list (`arg`) that an idle task waits in for as long as it
   * likes (a rule on them trips on a task that is merely idle), and whether
   * leaving the list out means all of them too; `onStreams`: names that wait so only on a
   * socket, a pipe or a terminal (for their peer), not on a file. The checker warns about all.
   */
  blocksByDesign?: { arg: string; names: readonly string[]; onStreams: readonly string[]; whenOmitted: boolean };
  /**
   * A rule on it may say `counting pauses`: the durations it compares are ones a pause of the
   * whole guest can lengthen (a call in flight, a busy CPU's tick gap), so that pause can be counted in them.
   */
  pausesCountable?: true;
  /**
   * Where `counting pauses` is refused and the reason is the condition's own, not just "no
   * duration": the error's note (E0163).
   */
  pausesUncountable?: string;
  /** What a backend must observe for one rule's arguments. */
  needs: (args: ConditionArgs) => Needs;
}

/** Why `counting pauses` does not apply to the condition (E0163's note), or undefined where it does. */
export function pausesUncountable(spec: ConditionSpec): string | undefined {
  if (spec.pausesCountable) return undefined;
  return spec.pausesUncountable ?? `'${spec.syntax}' holds at one moment: it has no duration for a pause to lengthen; 'event vm_resumed' catches the resume`;
}

/** A condition; its filters are its subject's attributes. */
export function condition(spec: Omit<ConditionSpec, "attributes">): ConditionSpec {
  return { ...spec, attributes: SUBJECTS[spec.subject] };
}
