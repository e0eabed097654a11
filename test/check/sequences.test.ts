// Sequences through the library, for what the UI cases do not show: each condition becomes a
// part with its own index (the file's rules first, then each sequence's first condition), the
// limit counts parts, and the generated script's verdicts follow the parts.
import { describe, expect, test } from "vitest";
import { checkSource, compileSource } from "../../src/compile.js";
import { ruleParts } from "../../src/check/checked.js";

const TWO = `when signal SIGUSR1 on comm "a" then syscall nanosleep latency > 200ms on comm "b" within 2s as "first" allow W0004
when event oom_kill
when tick gap > 50ms then vcpu stall > 100ms within 5s 2 times within 10s after 1s`;

describe("sequences", () => {
  test("each sequence's first condition is a part numbered after the rules, with its own filters and threshold", () => {
    const { checked, diagnostics } = checkSource(TWO, { fileName: "rule.qt" });
    expect(diagnostics).toEqual([]);
    const parts = ruleParts(checked!);
    expect(parts.map((p) => [p.index, p.entry.id, p.label])).toEqual([
      [0, "syscall-latency", "first"],
      [1, "event", "rule.qt:2"],
      [2, "vcpu-stall", "rule.qt:3"],
      [3, "signal", "first"],
      [4, "tick-gap", "rule.qt:3"],
    ]);
    const [first, , third] = checked!.rules;
    expect(first.filters.map((f) => [f.attribute, f.value])).toEqual([["comm", { kind: "const", value: "b" }]]);
    expect(first.sequence!.first.filters.map((f) => [f.attribute, f.value])).toEqual([["comm", { kind: "const", value: "a" }]]);
    expect(first.sequence!.within).toEqual({ kind: "const", value: 2_000_000_000n });
    expect(first.sequence!.first.source).toBe('signal SIGUSR1 on comm "a"');
    // The modifiers are the whole rule's: on its second condition, none on the first.
    expect(third.count?.times).toEqual({ kind: "const", value: 2n });
    expect(third.after).toEqual({ kind: "const", value: 1_000_000_000n });
    expect(third.sequence!.first.count).toBeUndefined();
    expect(third.sequence!.first.after).toBeUndefined();
  });

  test("a file watches at most 64 parts: a sequence counts twice", () => {
    const rules = (n: number, sequences: number) =>
      [...Array(n)].map((_, i) => (i < sequences ? "when event oom_kill then event warn within 1s" : "when event oom_kill")).join("\n");
    expect(checkSource(rules(60, 4), { fileName: "rule.qt" }).diagnostics).toEqual([]);
    const over = checkSource(rules(60, 5), { fileName: "rule.qt" }).diagnostics;
    expect(over.map((d) => [d.code, d.span.start.line])).toEqual([["E0131", 5]]);
  });

  test("the script: the first condition stamps, the second holds within the window, before its count", () => {
    const guest = compileSource(TWO, { fileName: "rule.qt" }).outputs!.guest;
    expect(guest).toContain("#define QT_RULES 5");
    expect(guest).toContain("#define QT_SEQUENCE_FIRSTS 0x18ULL");
    expect(guest).toContain("\tqt_set_sequence(0, 3, 2000000000)");
    expect(guest).toContain("\tqt_set_sequence(2, 4, 5000000000)");
    // The signal (A) never trips: it stamps; the tick gap (A) neither.
    expect(guest).toMatch(/if \(\$sig == 10 && \$result == 0 && kernel_string\(\$task->comm\) == "a"\) qt_sequence\(3\)/);
    expect(guest).toMatch(/if \(\(qt_vcpu_progress\(0x10\) \|\| qt_exceeds\(4, qt_gap\)\)\) qt_sequence\(4\)/);
    // The in-flight scan (B: nanosleep) and the vCPU watch (B: stall, counted; A: the tick gap, seen there too) ask the window, the count after it.
    expect(guest).toContain("if ((found >> r & 1) && (!(0x1ULL >> r & 1) || qt_sequence_holds(r))) {");
    expect(guest).toMatch(/if \(\(0x14ULL >> r & 1\) && !\(new_stall && qt_sequence_holds\(r\)\)\)\n\t\treturn 0;\n\tif \(0x4ULL >> r & 1\)\n\t\treturn new_stall && qt_held\(r, 1\);/);
    expect(guest).toContain('qt_log_armed(3, "")');
  });

  test("at one probe, B is judged before A is recorded: the same signal twice, not once, trips", () => {
    const guest = compileSource("when signal SIGSTOP then signal SIGSTOP within 1s", { fileName: "rule.qt" }).outputs!.guest;
    const judged = guest.indexOf("if ($sig == 19 && $result == 0 && qt_sequence(0)) {");
    const recorded = guest.indexOf("if ($sig == 19 && $result == 0) qt_sequence(1)");
    expect(judged).toBeGreaterThan(0);
    expect(recorded).toBeGreaterThan(judged);
  });

  test("a file without sequences carries none of their fragments", () => {
    const guest = compileSource("when event oom_kill\nwhen syscall pread64 latency > 1s", { fileName: "rule.qt" }).outputs!.guest;
    expect(guest).not.toMatch(/sequence/);
  });
});
