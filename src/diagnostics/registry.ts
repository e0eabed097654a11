// Every diagnostic code qtrip gives, in one place: its severity, a title of a
// few words, and an explanation. `error()` and `warning()` take only codes
// listed here (a misspelt or retired code does not compile); docs/diagnostics.md
// (`npm run generate`), SARIF's rules and `qtrip explain CODE` are made from it.
//
// To add a code: one entry below, in numeric order (E01xx rule-file checks,
// E09xx captures for `qtrip report`, W00xx warnings), then a UI case in
// test/check/ui that shows it, or `noUiCase` saying what asserts it instead;
// then `npm run generate`. test/diagnostics/registry.test.ts checks all of it.
import type { Severity } from "./diagnostic.js";

export interface CodeInfo {
  readonly severity: Severity;
  /** A few words, as in a table: "unterminated string". */
  readonly title: string;
  /** What it means and what to do, in sentences. */
  readonly explanation: string;
  /** Why no case in test/check/ui shows it, and what test does instead. */
  readonly noUiCase?: string;
}

const err = (title: string, explanation: string, noUiCase?: string) => ({ severity: "error" as const, title, explanation, ...(noUiCase ? { noUiCase } : {}) });
const warn = (title: string, explanation: string) => ({ severity: "warning" as const, title, explanation });

const CAPTURE = "a capture's, not a rule file's: test/report asserts it with its text (test/report/codes.test.ts checks that one does)";

export const DIAGNOSTICS = {
  E0000: err("the file is not UTF-8", "A rule file is UTF-8 text. The diagnostic points at the first byte that is not; convert the file (iconv -t UTF-8) or remove the byte."),
  E0001: err("unexpected character", "No token of the language starts with this character. Outside strings and comments (`#` to the end of the line) a rule file holds only words, numbers, durations, `$parameters`, strings and the punctuation of the grammar."),
  E0002: err("unterminated string", 'A string runs to the end of its line without its closing double quote. Strings hold no raw newline: write `\\n` for one.'),
  E0003: err("unknown escape in a string", 'A string knows the escapes `\\"`, `\\\\`, `\\n` and `\\t`; any other backslash is an error. Write `\\\\` for a backslash.'),
  E0004: err("malformed number or duration", "A number is decimal or hexadecimal (`0x…`); a duration is a number followed at once by a unit (ns, us, ms, s, m, h) with no space: `200ms`. Anything else that starts with a digit (`200mss`, `1.5`) is one malformed number; the diagnostic lists the units."),
  E0005: err("duration not a whole number of nanoseconds", "A duration with a fraction (`1.5ms`) must come to a whole number of nanoseconds: `0.5ns` cannot be measured. Use a smaller unit."),
  E0010: err("syntax error (expected …, found …)", "The statement does not follow the grammar; the message says what could come at that point. Each statement is parsed on its own, so one mistake costs one diagnostic and the rest of the file is still checked."),
  E0101: err("header given twice", "`case`, `title` and `channel` describe the whole file and may each be given once; the note names the line of the first."),
  E0102: err("control character in text", "A case id, title, label, message text or string value goes into the scripts' headers and log lines: printable text on one line, without control characters."),
  E0103: err("text too long", "A text goes into a SystemTap string, which holds 127 bytes: keep it to 127 bytes of UTF-8."),
  E0104: err("channel port or value out of range", "The channel's port is an x86 I/O port, 0 to 0xffff; its value is one byte, 0 to 0xff."),
  E0105: err("channel port is a COM1 UART register", "Ports 0x3f8 to 0x3fe are the guest's first serial port, which its console may use: a write there would disturb it. The default, 0x3ff, is that UART's scratch register, which nothing reads."),
  E0110: err("parameter declared twice", "Each `param` name is declared once per file; the note names the line of the first declaration."),
  E0111: err("unknown parameter type", "A parameter is `int`, `string` or `duration`."),
  E0112: err("bad parameter default", "A parameter's default is a literal of the parameter's type: not another `$parameter`, not a number where a duration is declared."),
  E0113: err("parameter name reserved", "A parameter becomes a SystemTap global of the same name, so SystemTap's reserved words and names starting `qt_` (qtrip's own) cannot name one. Rename it."),
  E0115: err("bad `--define` value", "`--define NAME=VALUE` must give a value of the parameter's declared type: an integer for `int`, a duration with its unit for `duration`. The diagnostic points at the declaration."),
  E0120: err("unknown parameter", "A `$NAME` in a rule must be declared by a `param NAME: TYPE` in the same file."),
  E0121: err("value of the wrong type", "The place wants another type than the value gives: a threshold or window wants a duration (`200ms`, not `200`), a count or pid wants an integer, a name wants a string. A `$parameter` must be declared with the type the place wants."),
  E0130: err("no rule", "A rule file needs at least one `when` rule: without one the guest script would watch nothing."),
  E0131: err("too many rules", "A rule file has at most 64 rules: the guest keeps one bit per rule. Split the file."),
  E0140: err("unknown condition", "The word after `when` names no condition. `qtrip sources` lists them, with their syntax."),
  E0141: err("condition does not match its syntax", "The condition's words do not follow its syntax; the message gives the syntax (`qtrip sources` lists every condition's)."),
  E0142: err("unknown system call", "The name is not in the x86_64 system call table (Linux's, as the kernel names its calls: `pread64`, not `pread`)."),
  E0143: err("unknown errno", "The name is not one of Linux's errno names (`EIO`, `ETIMEDOUT`…)."),
  E0144: err("unknown signal", "The name is not one of Linux's signal names (`SIGKILL`, `SIGSEGV`…)."),
  E0145: err("unknown event", "The name is not one of the kernel events qtrip can watch; the note lists them."),
  E0146: err("threshold missing or not allowed", "A latency-like condition needs its threshold (`> D`), and a condition that is an event (`event NAME`, `message …`) takes none: the message gives the condition's syntax."),
  E0147: err("threshold below the condition's least", "Some conditions mean nothing below a floor: `tick gap` and `vcpu stall` watch a CPU's timer ticks, which come up to 4 ms apart on a busy CPU (HZ=250) and a tick or two late on a loaded host, so their threshold is at least 10ms; `timer late` cannot tell less than 10us from on time; a `steal` window is at least 100ms (its count moves at ticks, and it is sampled in eighths). The note says why for the condition at hand."),
  E0148: err("not a kernel function name", "`function \"NAME\"` and `function \"MODULE:NAME\"` take a name as /proc/kallsyms lists it: letters, digits and `_` (and `.` for compiler suffixes like `.isra.0`), at most 127 bytes."),
  E0149: err(
    "the guest backend lacks a capability the rule needs",
    "The planner lists what a rule file's guest script needs beyond its probes (tables of things in flight, counting, sequences, console search, a watch from another CPU…), and each guest backend declares what it supports: a rule that needs what the backend lacks is refused here, not by the target's tools. The note lists what the backend supports; write the rule without what it lacks.",
    "the SystemTap guest backend, the only one, supports every capability: test/plan/capabilities.test.ts asserts it with a backend that lacks one",
  ),
  E0150: err("unknown filter", "The word after `on` names no filter (`pid`, `tid`, `comm`, `uid`, `cpu`, `device`, `context`, `local_port`, `remote_port`)."),
  E0151: err("filter the condition does not have", "Each condition has its own filters: a condition with no task (`tick gap`, `vcpu stall`, `timer late`) has only `cpu`, for one. `qtrip sources` lists each condition's filters."),
  E0152: err("unknown reset direction", "`event tcp_reset` may be followed by `sent` (resets the guest sends) or `received` (resets its peers send it); without either word both count."),
  E0153: err("filter given twice", "A filter may be given once per rule: a task has one pid, one comm. Write two rules to watch two."),
  E0154: err("value longer than the attribute allows", "A filter's string is compared with what the kernel keeps, which is bounded: a `comm` has at most 15 bytes (TASK_COMM_LEN 16 with its NUL), so a longer one could never match; a device name at most 127 (a SystemTap string)."),
  E0155: err("value out of range", "A filter's number is beyond what the kernel can hold: pid and tid at most 4194304, uid at most 4294967294, cpu at most 8191, a port at most 65535."),
  E0156: err("empty string filter", 'An empty string (`comm ""`) matches no task or device: the rule would never trip.'),
  E0157: err("`context` not \"kernel\" or \"user\", or a `$param`", 'The `context` filter takes "kernel" (the kernel logged the line on its own) or "user" (it logged it while working for a user task), written in the rule rather than given by a parameter: checked when the rule is compiled, so a typo cannot reach the guest.'),
  E0158: err("share out of range", "A share `> P% within D` is a whole percentage from 0 to 99 (`> 0%` is any steal at all; above 100% is never), or with `>=` from 1 to 100."),
  E0159: err("share of time missing or not allowed", "`steal` compares a share of a sliding window of time, `steal > 20% within 1s`: the percentage and the window are both needed. Every other condition compares a duration (`> 200ms`) or a number, never a percentage."),
  E0160: err("modifier given twice", "Each modifier (`N times within D`, `after D`, `counting pauses`, `as \"label\"`) may be given once per rule; the note names the first."),
  E0161: err("count out of range", "A `times N` count is from 1 to 100000."),
  E0162: err("empty window", "A `within D` window must be longer than 0."),
  E0163: err(
    "`counting pauses` on a condition a pause cannot lengthen",
    "`counting pauses` makes the hypervisor's pauses of the whole guest (QMP `stop`/`cont`, `virsh suspend`, a migration's end) count in the rule's durations, which by default leave them out: a call in flight across a 5 s pause is 5 s older at the resume. It applies to what a pause can lengthen: the latencies (`syscall`, `function`, `io`, `sched`, `task blocked`, `reclaim stall`) and `tick gap`. `vcpu stall` cannot see a pause (every vCPU stops, the watching one too), `timer late` measures on the guest's clock, `steal` does not include pauses, and events, messages and signals have no duration. To act on a pause, write a rule on `event vm_resumed`.",
  ),
  E0170: err("duration too large", "A duration is kept in nanoseconds in a signed 64-bit integer: at most about 292 years."),
  E0171: err("number too large", "A number is kept in a signed 64-bit integer: at most 9223372036854775807."),
  E0180: err("an error code in an allowance", "`allow` acknowledges warnings only. An error means the rule cannot compile as written: fix it, and remove the code from the allowance."),
  E0181: err("`then` without a second condition", "A sequence is `when A then B within D`: `then` must be followed by the condition that counts only within D after A."),
  E0182: err("sequence without its window", "A sequence's window, `within D`, comes right after its second condition and that condition's filters. A `N times within D` that follows it counts the second condition's trips inside windows; it is not the sequence's window."),
  E0183: err("a chain of sequences", "A sequence has two conditions: `then` may come once in a rule. Write `A then B` and `B then C` as two rules if both orders matter."),
  E0184: err("filters after a sequence's window", "Filters after `within D` could narrow either condition. Put each filter right after the condition it narrows."),
  E0190: err("a number comparison without `%u`", "`message \"TEXT\" > N` compares the number a line carries: TEXT must say where it is, with one `%u` (`message \"interrupt took %u ns\" > 1000000`). Without a comparison, `message \"TEXT\"` matches lines containing TEXT."),
  E0191: err("more than one `%u`", "A pattern reads one number: write one `%u`, and the rest of the line as literal text (`%%` for a percent sign)."),
  E0192: err("unknown `%` directive", "The pattern knows `%u` (an unsigned decimal number) and `%%` (a percent sign). The kernel's `%d`, `%llu`, `%lu` and friends print decimal digits too: write `%u` for them; a lone `%` is `%%`."),
  E0193: err("a duration against a number with no unit", "A duration threshold (`> 500us`) needs the line's number to have a unit: a unit word right after `%u` (`%uns`, `%u ms`, `%u usecs`). Without one, compare with a plain number."),
  E0194: err("`%u` with no text before it, or a digit next to it", "The number is found by the text before `%u`, which may not be empty, and no digit may touch `%u` on either side: the digits of the line would run into the number."),
  E0900: err("no ftrace records", "`qtrip report` found no ftrace record in the capture's trace: the file is empty, or holds only comments and blank lines. The host script's capture may have been cut short.", CAPTURE),
  E0901: err("a line that is not an ftrace record", "A line of the capture is not an ftrace record as the trace file prints them (a truncated line is one too). `qtrip report` reads the capture the host script writes; an edited or cut file reads so.", CAPTURE),
  E0902: err("an event's fields not as the kernel prints them", "The record names an event `qtrip report` knows, but its fields do not read as that kernel prints them: the capture comes from a kernel whose format differs, or was edited.", CAPTURE),
  E0903: err("`meta.json` is not JSON", "A capture's `meta.json`, written by the host script beside the trace, does not parse as JSON.", CAPTURE),
  E0904: err("a `meta.json` field of the wrong type", "A field of the capture's `meta.json` is missing or of another type than the host script writes.", CAPTURE),
  W0001: warn("parameter never used", "A `param` that no rule uses: a leftover, or a rule that was meant to use it and does not. Remove it, or use it."),
  W0003: warn("name listed twice", "A name (a system call, an errno, a warning code in an allowance…) is listed more than once in one list: the repeat adds nothing."),
  W0004: warn("system call that blocks by design", "The named call waits for as long as its caller likes (futex, poll, epoll_wait, nanosleep…; read and write on a socket, a pipe or a terminal): an idle thread waits in it, and the rule would trip on that, which crashes the host. If the wait is the symptom, say so with `allow W0004`."),
  W0005: warn("rule on every system call, including those that block by design", "A `syscall latency` rule with no call named watches every call, including those an idle thread waits in for as long as it likes: it would trip on the first idle thread. Name the calls, or `allow W0005`."),
  W0006: warn("device that issues no block requests of its own", "A device-mapper, md RAID or zram device (`dm-0`, `md0`, `zram0`) is bio-based: its requests go to the disks below it, so an `io latency` rule on it never trips. Name a disk below it."),
  W0007: warn("unknown warning code in an allowance", "`allow` names a code that is not one of qtrip's warnings: the allowance ignores it. The note lists the warning codes, with a likely one where one is close."),
  W0008: warn("allowance that silences nothing", "The rule gets no warning of the allowed code: the allowance would silently hide that warning if the rule changed later. Remove it."),
  W0009: warn("message text with %u but no comparison", "`%u` is a placeholder only in `message \"TEXT\" > N`: without a comparison, the text is searched for as written, `%u` included, and hardly any line contains it. Add the comparison, or write the text the lines really contain."),
} satisfies Record<string, CodeInfo>;

export type Code = keyof typeof DIAGNOSTICS;
export type ErrorCode = { [K in Code]: (typeof DIAGNOSTICS)[K]["severity"] extends "error" ? K : never }[Code];
export type WarningCode = { [K in Code]: (typeof DIAGNOSTICS)[K]["severity"] extends "warning" ? K : never }[Code];

export const CODES = Object.keys(DIAGNOSTICS) as Code[];

export function isCode(name: string): name is Code {
  return Object.hasOwn(DIAGNOSTICS, name);
}

export function codeInfo(code: Code): CodeInfo {
  return DIAGNOSTICS[code];
}

/** Where the code is explained, from the repository's root. */
export function docsAnchor(code: Code): string {
  return `docs/diagnostics.md#${code.toLowerCase()}`;
}

/** What `qtrip explain CODE` prints. */
export function explainCode(code: Code): string {
  const info = codeInfo(code);
  return `${code} (${info.severity}): ${info.title}\n\n${info.explanation}\n\nSee ${docsAnchor(code)}.\n`;
}
