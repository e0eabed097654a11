// `counting pauses` through the library, for what the UI cases do not show: the checked rule
// carries `countsPauses` only where it was written and allowed (in a sequence, on B), and the
// specs that allow it are exactly those whose durations a pause can lengthen.
import { expect, test } from "vitest";
import { specs } from "../../stdlib/index.js";
import { checkSource } from "../../src/compile.js";

test("countsPauses is set on the rule that says it, on a sequence's B and never its A, and nowhere else", () => {
  const { checked, diagnostics } = checkSource(
    `when syscall pread64 latency > 200ms counting pauses
when syscall pread64 latency > 200ms
when tick gap > 50ms then io latency > 1s within 5s counting pauses as "io"`,
    { fileName: "rule.qt" },
  );
  expect(diagnostics).toEqual([]);
  const [counted, plain, sequence] = checked!.rules;
  expect(counted.countsPauses).toBe(true);
  expect("countsPauses" in plain).toBe(false);
  expect(sequence.countsPauses).toBe(true);
  expect(sequence.entry.id).toBe("io-latency");
  expect("countsPauses" in sequence.sequence!.first).toBe(false);
});

test("a refused `counting pauses` fails the file: no checked rules", () => {
  const { checked, diagnostics } = checkSource("when vcpu stall > 100ms counting pauses", { fileName: "rule.qt" });
  expect(checked).toBeUndefined();
  expect(diagnostics.map((d) => d.code)).toEqual(["E0163"]);
});

test("the conditions that take it are the in-flight durations and tick gap; the others that take a threshold say why not", () => {
  const countable = specs.filter((s) => s.pausesCountable).map((s) => s.id);
  // What each condition needs, for the arguments of its own example.
  const lengthened = specs
    .filter((s) => {
      const rule = checkSource(s.example, { fileName: "rule.qt" }).checked!.rules[0];
      expect(rule.entry.id).toBe(s.id);
      const needs = s.needs(rule.args);
      return needs.kind === "inflight" || needs.select?.some((sel) => sel.kind === "tick-interval-exceeds");
    })
    .map((s) => s.id);
  expect(countable.sort()).toEqual(lengthened.sort());
  expect(countable.sort()).toEqual(["function-latency", "io-latency", "reclaim-stall", "sched-latency", "syscall-latency", "task-blocked", "tick-gap"]);
  for (const s of specs) expect(!(s.pausesCountable && s.pausesUncountable), s.id).toBe(true);
  const thresholdsWithoutIt = specs.filter((s) => (s.threshold || s.share) && !s.pausesCountable).map((s) => s.id);
  expect(thresholdsWithoutIt.filter((id) => !specs.find((s) => s.id === id)!.pausesUncountable)).toEqual([]);
});
