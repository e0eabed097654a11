// Each invalid input with the exact first diagnostic it gets, rendered as the user sees it.
import { describe, expect, test } from "vitest";
import { checkSource } from "../../src/compile.js";
import { renderText } from "../../src/diagnostics/render.js";

function firstError(source: string, defines?: Record<string, string>): string {
  const { diagnostics } = checkSource(source, {
    fileName: "rule.qt",
    ...(defines ? { defines: new Map(Object.entries(defines)) } : {}),
  });
  const d = diagnostics.find((x) => x.severity === "error");
  if (!d) throw new Error(`no error for: ${source}`);
  return renderText(d, { name: "rule.qt", text: source });
}

const cases: [string, string, string][] = [
  [
    "misspelt keyword in a condition",
    "when syscall latncy > 200ms",
    `rule.qt:1:14: error: expected 'latency', found 'latncy' [E0141]
  |
1 | when syscall latncy > 200ms
  |              ^^^^^^
  = note: the syntax is: syscall [NAME {, NAME}] latency > D  |  syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]
  = help: did you mean 'latency'?`,
  ],
  [
    "unknown condition",
    "when syscal latency > 1s",
    `rule.qt:1:6: error: unknown condition 'syscal' [E0140]
  |
1 | when syscal latency > 1s
  |      ^^^^^^
  = note: the conditions are: syscall, io, sched, task, function, tick, message, event, signal
  = help: did you mean 'syscall'?`,
  ],
  [
    "unknown system call",
    "when syscall opnat latency > 1s",
    `rule.qt:1:14: error: unknown system call 'opnat' [E0142]
  |
1 | when syscall opnat latency > 1s
  |              ^^^^^
  = note: names are those of the x86_64 system call table
  = help: did you mean 'openat'?`,
  ],
  [
    "unknown filter",
    "when syscall latency > 1s on pdi 3",
    `rule.qt:1:30: error: unknown filter 'pdi' [E0150]
  |
1 | when syscall latency > 1s on pdi 3
  |                              ^^^
  = note: the filters are: pid, tid, comm, uid, cpu, device
  = help: did you mean 'pid'?`,
  ],
  [
    "filter the condition lacks",
    'when syscall latency > 1s on device "vda"',
    `rule.qt:1:30: error: 'syscall' conditions have no 'device' to filter on [E0151]
  |
1 | when syscall latency > 1s on device "vda"
  |                              ^^^^^^
  = note: 'syscall [NAME {, NAME}] latency > D' takes: pid, tid, comm, uid, cpu`,
  ],
  [
    "a bare number where a duration is needed",
    "when syscall latency > 200",
    `rule.qt:1:24: error: a threshold must be a duration, not a bare number [E0121]
  |
1 | when syscall latency > 200
  |                        ^^^
  = help: give its unit: '200ms' or '200s'`,
  ],
  [
    "unknown unit",
    "when syscall latency > 200mss",
    `rule.qt:1:24: error: '200mss' is not a number or a duration [E0004]
  |
1 | when syscall latency > 200mss
  |                        ^^^^^^
  = help: a duration is a number and one of the units ns, us, ms, s, m, h, with no space: '200ms'`,
  ],
  [
    "comm longer than a task name",
    'when syscall latency > 1s on comm "abcdefghijklmnop"',
    `rule.qt:1:35: error: the comm is 16 bytes long; at most 15 [E0103]
  |
1 | when syscall latency > 1s on comm "abcdefghijklmnop"
  |                                   ^^^^^^^^^^^^^^^^^^`,
  ],
  [
    "undeclared parameter",
    "param pid: int\nwhen syscall latency > 1s on pid $pdi",
    `rule.qt:2:34: error: unknown parameter '$pdi' [E0120]
  |
2 | when syscall latency > 1s on pid $pdi
  |                                  ^^^^
  = help: did you mean '$pid'?`,
  ],
  [
    "parameter of the wrong type",
    "param who: string\nwhen syscall latency > 1s on pid $who",
    `rule.qt:2:34: error: 'pid' must be a number, but '$who' is a string [E0121]
  |
2 | when syscall latency > 1s on pid $who
  |                                  ^^^^
  = note: 'who' is declared on line 1`,
  ],
  [
    "a UART register as the channel",
    "channel port 0x3f8 value 0x1f\nwhen syscall latency > 1s",
    `rule.qt:1:14: error: port 0x3f8 is a register of the guest's COM1 UART: writing it would disturb the serial port [E0105]
  |
1 | channel port 0x3f8 value 0x1f
  |              ^^^^^
  = help: use the scratch register, 0x3ff (the default)`,
  ],
  [
    "channel value out of range",
    "channel port 0x3ff value 0x100\nwhen syscall latency > 1s",
    `rule.qt:1:26: error: channel value 0x100 is out of range: 0 to 0xff [E0104]
  |
1 | channel port 0x3ff value 0x100
  |                          ^^^^^`,
  ],
  [
    "a file without rules",
    'case "1"\n',
    `rule.qt:1:1: error: the file has no rule [E0130]
  |
1 | case "1"
  | ^
  = help: add one: when syscall latency > 200ms on pid 1234`,
  ],
  [
    "header given twice",
    'case "1"\ncase "2"\nwhen syscall latency > 1s',
    `rule.qt:2:1: error: 'case' is given twice [E0101]
  |
2 | case "2"
  | ^^^^^^^^
  = note: first given on line 1`,
  ],
  [
    "a statement cut short",
    "when syscall latency >\nwhen syscall latency > 1s",
    `rule.qt:1:23: error: expected a duration, a number, a string or a $parameter, found 'when' [E0010]
  |
1 | when syscall latency >
  |                       ^`,
  ],
  [
    "misspelt statement keyword",
    "chanel port 0x3ff value 0x1f",
    `rule.qt:1:1: error: expected a statement ('case', 'title', 'channel', 'param' or 'when'), found 'chanel' [E0010]
  |
1 | chanel port 0x3ff value 0x1f
  | ^^^^^^
  = help: did you mean 'channel'?`,
  ],
  [
    "unterminated string",
    'when syscall latency > 1s as "stall',
    `rule.qt:1:30: error: unterminated string [E0002]
  |
1 | when syscall latency > 1s as "stall
  |                              ^^^^^^
  = help: close it with '"' on the same line; a string cannot span lines (write \\n)`,
  ],
  [
    "newline in a header string",
    'title "a\\nb"\nwhen syscall latency > 1s',
    `rule.qt:1:7: error: the title contains a control character ('\\n') [E0102]
  |
1 | title "a\\nb"
  |       ^^^^^^
  = help: use printable text on one line`,
  ],
  [
    "unknown escape",
    'case "a\\qb"\nwhen syscall latency > 1s',
    `rule.qt:1:8: error: unknown escape '\\q' in a string [E0003]
  |
1 | case "a\\qb"
  |        ^^
  = help: the escapes are \\" \\\\ \\n \\t; write \\\\ for a backslash`,
  ],
  [
    "count of zero",
    "when syscall latency > 1s 0 times within 1m",
    `rule.qt:1:27: error: the count must be from 1 to 100000, not 0 [E0161]
  |
1 | when syscall latency > 1s 0 times within 1m
  |                           ^`,
  ],
  [
    "modifier given twice",
    "when syscall latency > 1s after 1s after 2s",
    `rule.qt:1:36: error: 'after' is given twice in one rule [E0160]
  |
1 | when syscall latency > 1s after 1s after 2s
  |                                    ^^^^^^^^
  = note: first given on line 1`,
  ],
  [
    "filter given twice",
    "when syscall latency > 1s on pid 1 and pid 2",
    `rule.qt:1:40: error: 'pid' is filtered twice in one rule [E0153]
  |
1 | when syscall latency > 1s on pid 1 and pid 2
  |                                        ^^^^^
  = note: first on line 1; a task has one pid, so both cannot hold
  = help: write one rule for each value`,
  ],
  [
    "a 400-digit number",
    `when syscall latency > 1s on pid ${"9".repeat(400)}`,
    `rule.qt:1:34: error: 'pid' is too large a number: at most 9223372036854775807 [E0171]
  |
1 | when syscall latency > 1s on pid ${"9".repeat(400)}
  |                                  ${"^".repeat(400)}`,
  ],
  [
    "a pid past the kernel's limit",
    "when syscall latency > 1s on pid 4194305",
    `rule.qt:1:34: error: pid 4194305 is out of range: at most 4194304 [E0155]
  |
1 | when syscall latency > 1s on pid 4194305
  |                                  ^^^^^^^`,
  ],
  [
    "a bad --define value",
    "param pid: int\nwhen syscall latency > 1s on pid $pid",
    `rule.qt:1:7: error: --define pid=abc: 'abc' is not a number [E0115]
  |
1 | param pid: int
  |       ^^^
  = help: give a number`,
  ],
  [
    "a parameter named after a SystemTap keyword",
    "param limit: int\nwhen syscall latency > 1s on pid $limit",
    `rule.qt:1:7: error: 'limit' cannot name a parameter: it becomes a SystemTap global, and SystemTap reserves that word [E0113]
  |
1 | param limit: int
  |       ^^^^^
  = help: rename it, e.g. 'limit_value'`,
  ],
];

describe("diagnostics", () => {
  test.each(cases)("%s", (name, source, expected) => {
    expect(firstError(source, name === "a bad --define value" ? { pid: "abc" } : undefined)).toBe(expected);
  });

  test("all errors of a file are reported in one run", () => {
    const source = "when syscal latency > 1s\nwhen syscall latency > 1s on pdi 2\nwhen io latency >\nchannel port 0x3f9 value 1";
    const { diagnostics } = checkSource(source, { fileName: "rule.qt" });
    expect(diagnostics.map((d) => [d.span.start.line, d.code])).toEqual([
      [1, "E0140"],
      [2, "E0150"],
      [3, "E0010"],
      [4, "E0105"],
    ]);
  });

  test("an unused parameter is a warning, not an error", () => {
    const { diagnostics, checked } = checkSource("param pid: int\nwhen syscall latency > 1s", { fileName: "rule.qt" });
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "W0001"]]);
    expect(checked?.rules).toHaveLength(1);
  });
});

test("--define durations are read as in a rule file", () => {
  const source = "param lag: duration\nwhen tick gap > $lag";
  const baked = checkSource(source, { fileName: "rule.qt", defines: new Map([["lag", "1.5s"]]) });
  expect(baked.checked?.rules[0].threshold?.nanoseconds).toEqual({ kind: "const", value: 1_500_000_000n });
  for (const bad of ["5mss", "1.5", "ms", "0.0000000001s"]) {
    const { diagnostics } = checkSource(source, { fileName: "rule.qt", defines: new Map([["lag", bad]]) });
    expect(diagnostics.map((d) => d.code), bad).toContain("E0115");
  }
});
