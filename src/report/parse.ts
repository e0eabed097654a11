// Pass 1 of `qtrip report`: the ftrace text format into typed events.
//
// The format is read here rather than through trace-cmd: a hypervisor under
// escalation rarely has trace-cmd installed, the freeze writes the `trace` file's
// text (no trace.dat exists), and the engineer may read the capture on a laptop.
// One reader serves the kernel's own `trace` file (5.10: four flag characters,
// 6.1 and later: five; with or without the tgid column) and `trace-cmd report`'s
// text (no flags by default, its own sched_* layouts).
import { error, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { Ns, ParsedTrace, TraceEvent } from "./events.js";

export class TraceError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

const RECORD_SHAPE = "an ftrace record: TASK-PID [CPU] FLAGS SECONDS.MICROS: EVENT: FIELDS";

// TASK-PID, an optional (TGID), [CPU], optional irq-info flags, the timestamp, then the event.
// Task names hold spaces and dashes ("CPU 0/KVM", "kworker/u4:2-events"): the name ends at the
// first "-PID" followed by the [CPU] column (lazy: scanning forward is cheaper than backtracking).
const RECORD = /^\s*(.*?)-(\d+)\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S{4,5})\s+)?(\d+)\.(\d+):\s+(?:(\w+):\s*(.*)|(<stack trace>|<user stack trace>))\s*$/;

/** Lines that carry no record: the `trace` file's header and trace-cmd report's preamble and notices. */
const NOT_RECORD = /^(#.*|\s*|cpus=\d+|version = .*|CPU \d+ is empty|CPU\d+ data recorded at offset=.*|\s*=> .*|\s*\.\.\. \d+ more.*)$/;

/** Event fields, in the kernel's layout and in trace-cmd report's; each the pattern and what a bad line is told. */
const FIELDS = {
  sched_switch: [
    /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(\d+)$/,
    /^(.*):(\d+) \[(\d+)\] (\S+) ==> (.*):(\d+) \[(\d+)\]$/,
  ],
  sched_wakeup: [/^comm=(.*) pid=(\d+) prio=(\d+)(?: success=\d)? target_cpu=(\d+)$/, /^(.*):(\d+) \[(\d+)\](?: success=\d)? CPU:(\d+)$/],
  sched_migrate_task: [/^comm=(.*) pid=(\d+) prio=(\d+) orig_cpu=(\d+) dest_cpu=(\d+)$/],
  kvm_exit: [/(?:^|\s)reason (\S+)/],
  kvm_userspace_exit: [/^reason (\S+)/],
  irq_handler_entry: [/^irq=(\d+) name=(.*)$/],
  irq_handler_exit: [/^irq=(\d+) /],
  softirq_entry: [/^vec=(\d+) \[action=(\w+)\]$/],
  softirq_exit: [/^vec=(\d+) \[action=(\w+)\]$/],
} as const;

const EXPECTED: Record<keyof typeof FIELDS, string> = {
  sched_switch: "prev_comm=… prev_pid=N prev_prio=N prev_state=S ==> next_comm=… next_pid=N next_prio=N",
  sched_wakeup: "comm=… pid=N prio=N target_cpu=N",
  sched_migrate_task: "comm=… pid=N prio=N orig_cpu=N dest_cpu=N",
  kvm_exit: "reason NAME …",
  kvm_userspace_exit: "reason NAME …",
  irq_handler_entry: "irq=N name=NAME",
  irq_handler_exit: "irq=N ret=…",
  softirq_entry: "vec=N [action=NAME]",
  softirq_exit: "vec=N [action=NAME]",
};

/** The span of `length` characters at 0-based `column` of 1-based `line`, whose text starts at `offset`. */
export function spanAt(offset: number, line: number, column: number, length = 1) {
  const start = { offset: offset + column, line, column: column + 1 };
  return { start, end: { offset: start.offset + Math.max(1, length), line, column: start.column + Math.max(1, length) } };
}

/** Seconds with 6 (or 9) decimals into whole nanoseconds, without a float's rounding. */
function nanoseconds(seconds: string, fraction: string): Ns {
  return Number(seconds) * 1e9 + Number(fraction.padEnd(9, "0").slice(0, 9));
}

/** Reads the whole text; throws a TraceError at the first line that is not what the format says. */
export function parseTrace(text: string): ParsedTrace {
  const events: TraceEvent[] = [];
  let entries: ParsedTrace["entries"];
  let stack: string[] | undefined;
  let offset = 0;
  let lineNo = 0;
  while (offset < text.length) {
    let end = text.indexOf("\n", offset);
    if (end < 0) end = text.length;
    const raw = text.charCodeAt(end - 1) === 13 ? text.slice(offset, end - 1) : text.slice(offset, end);
    lineNo++;
    const lineStart = offset;
    offset = end + 1;
    const arrow = /^\s*=> (.*)$/.exec(raw);
    if (arrow && stack) {
      stack.push(arrow[1]!);
      continue;
    }
    stack = undefined;
    const m = RECORD.exec(raw);
    if (!m) {
      const header = /^# entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(raw);
      if (header) entries = { inBuffer: Number(header[1]), written: Number(header[2]) };
      if (NOT_RECORD.test(raw)) continue;
      throw new TraceError(
        error("E0901", spanAt(lineStart, lineNo, raw.search(/\S/), raw.trim().length), "this line is not an ftrace record", {
          notes: [`expected ${RECORD_SHAPE}`],
        }),
      );
    }
    const common: Common = { line: lineNo, comm: m[1]!.trim(), tid: Number(m[2]), cpu: Number(m[3]), t: nanoseconds(m[5]!, m[6]!) };
    if (m[9]) {
      const event: TraceEvent = { ...common, kind: "stack", frames: [] };
      stack = event.frames;
      events.push(event);
      continue;
    }
    const name = m[7]!;
    const body = m[8]!;
    const patterns = (FIELDS as Record<string, readonly RegExp[]>)[name];
    if (!patterns) {
      events.push(kvmEntry(common, name, body) ?? { ...common, kind: "other", name, text: body });
      continue;
    }
    const f = patterns.map((p) => p.exec(body)).find((x) => x);
    if (!f) {
      const column = raw.length - body.length;
      throw new TraceError(
        error("E0902", spanAt(lineStart, lineNo, column, body.length), `the ${name} event's fields are not as the kernel prints them`, {
          notes: [`expected ${EXPECTED[name as keyof typeof FIELDS]}`],
        }),
      );
    }
    events.push(typed(common, name as keyof typeof FIELDS, f));
  }
  if (!events.length) {
    throw new TraceError(
      error("E0900", spanAt(0, Math.max(1, lineNo), 0), text.length ? "no ftrace records in this file (only comments or blank lines)" : "the file is empty", {
        notes: [`expected ${RECORD_SHAPE}`],
        suggestion: "give the instance's `trace` file, or the text of `trace-cmd report`",
      }),
    );
  }
  // ftrace merges its per-CPU buffers in time order; a cut or concatenated file may not be.
  if (events.some((e, i) => i > 0 && e.t < events[i - 1]!.t)) events.sort((a, b) => a.t - b.t);
  return { events, lines: lineNo, ...(entries ? { entries } : {}) };
}

type Common = Pick<TraceEvent, "line" | "comm" | "tid" | "cpu" | "t">;

function kvmEntry(common: Common, name: string, body: string): TraceEvent | undefined {
  if (name !== "kvm_entry") return undefined;
  const vcpu = /vcpu (\d+)/.exec(body);
  return { ...common, kind: "kvm_entry", ...(vcpu ? { vcpu: Number(vcpu[1]) } : {}) };
}

function typed(c: Common, name: keyof typeof FIELDS, f: RegExpExecArray): TraceEvent {
  // Written out, not spread: a 64 MB buffer makes hundreds of thousands of these.
  const { line, comm, tid, cpu, t } = c;
  const n = (i: number) => Number(f[i]);
  switch (name) {
    case "sched_switch":
      return { line, comm, tid, cpu, t, kind: "sched_switch", prevComm: f[1]!, prevTid: n(2), prevPrio: n(3), prevState: f[4]!, nextComm: f[5]!, nextTid: n(6), nextPrio: n(7) };
    case "sched_wakeup":
      return { line, comm, tid, cpu, t, kind: "sched_wakeup", wakeComm: f[1]!, wakeTid: n(2), prio: n(3), targetCpu: n(4) };
    case "sched_migrate_task":
      return { line, comm, tid, cpu, t, kind: "sched_migrate_task", taskComm: f[1]!, taskTid: n(2), prio: n(3), origCpu: n(4), destCpu: n(5) };
    case "kvm_exit":
      return { line, comm, tid, cpu, t, kind: "kvm_exit", reason: f[1]! };
    case "kvm_userspace_exit":
      return { line, comm, tid, cpu, t, kind: "kvm_userspace_exit", reason: f[1]! };
    case "irq_handler_entry":
      return { line, comm, tid, cpu, t, kind: "irq_entry", irq: f[1]!, name: f[2]! };
    case "irq_handler_exit":
      return { line, comm, tid, cpu, t, kind: "irq_exit", irq: f[1]! };
    case "softirq_entry":
      return { line, comm, tid, cpu, t, kind: "softirq_entry", vec: f[1]!, name: f[2]! };
    case "softirq_exit":
      return { line, comm, tid, cpu, t, kind: "softirq_exit", vec: f[1]! };
  }
}
