// Diagnostics through the library, for what their text does not show (what a
// rule prints is in the UI tests, ui/ and ui.test.ts): recovery, severities, --define.
import { describe, expect, test } from "vitest";
import { checkSource } from "../../src/compile.js";

describe("diagnostics", () => {
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
    const { diagnostics, checked } = checkSource("param pid: int\nwhen syscall pread64 latency > 1s", { fileName: "rule.qt" });
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
