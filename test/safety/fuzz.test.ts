// Property-based fuzzing over random mutations of the examples: the compiler
// never throws, never writes output with an error, and every script it writes
// parses with the real `stap -p1`. npm test runs a few hundred inputs;
// `npm run fuzz` runs 10,000 (QTRIP_FUZZ_RUNS).
import { readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { GUEST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { qtrip } from "../support/cli.js";
import { repoRoot, splitOptions, stap } from "../support/stap.js";
import { stapSkeleton } from "../support/stap-text.js";

const RUNS = Number(process.env.QTRIP_FUZZ_RUNS ?? 300);
const CLI_RUNS = Math.max(20, Math.floor(RUNS / 10));
const STAP_SAMPLE = Number(process.env.QTRIP_FUZZ_STAP ?? 12);

const seeds = [
  ...readdirSync(join(repoRoot, "examples")).map((f) => readFileSync(join(repoRoot, "examples", f), "utf8")),
  ...readdirSync(join(repoRoot, "test/fixtures/language")).map((f) => readFileSync(join(repoRoot, "test/fixtures/language", f), "utf8")),
];

/** Pieces a mutation may insert: the language's words, values, punctuation, and trouble. */
const VOCABULARY = [
  "when", "on", "and", "times", "within", "after", "as", "case", "title", "channel", "port", "value", "param",
  "syscall", "latency", "error", "io", "sched", "function", "tick", "gap", "message", "event", "signal",
  "pid", "tid", "comm", "uid", "cpu", "device", "int", "string", "duration", "futex", "ENOENT", "SIGKILL", "hung_task",
  "200ms", "1.5s", "0x3ff", "0", "99999999999999999999", "-1", "$pid", "$x", '"x"', '"', "\\", ">", ">=", "<", "=", ":", ",",
  "#", "\n", " ", "%{", "%}", "\u0000", "é", "\u2028", "9ms9", "..", "%u", "%%", "%llu", "\"took %u ns\"",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(...VOCABULARY) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 3 }) }),
);

const mutatedRule = fc
  .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }))
  .map(([seed, mutations]) =>
    mutations.reduce((text, m) => {
      const at = m.at % (text.length + 1);
      switch (m.kind) {
        case "insert":
        case "byte":
          return text.slice(0, at) + m.text + text.slice(at);
        case "delete":
          return text.slice(0, at) + text.slice(at + m.length);
        case "duplicate":
          return text.slice(0, at) + text.slice(at, at + m.length) + text.slice(at);
      }
    }, seed),
  );

describe("fuzzing", () => {
  test(`the compiler never throws and writes nothing on error (${RUNS} mutated rule files)`, async () => {
    const compiled = new Map<string, string>();
    let accepted = 0;
    fc.assert(
      fc.property(mutatedRule, fc.boolean(), (source, dryRun) => {
        const result = compileSource(source, { fileName: "fuzz.qt", dryRun });
        if (hasErrors(result.diagnostics)) {
          expect(result.outputs).toBeUndefined();
          for (const d of result.diagnostics) {
            expect(d.span.start.offset).toBeLessThanOrEqual(source.length);
            // A sentence of its own, whatever the input: one line, nothing unfilled.
            expect(d.message).toMatch(/^\S[^\n]*\S$/);
            expect(d.message.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "''"), "outside what it quotes of the input").not.toMatch(/\bundefined\b|\bNaN\b|\[object /);
          }
          return;
        }
        accepted++;
        const guest = result.outputs!.guest;
        const skeleton = stapSkeleton(guest); // throws on a broken literal or comment
        compiled.set(createHash("sha256").update(skeleton + guest.split("\n").filter((l) => !l.startsWith("#")).join("\n")).digest("hex"), guest);
      }),
      { numRuns: RUNS },
    );
    // The mutations must exercise both paths, or the property says little.
    expect(accepted).toBeGreaterThan(RUNS / 50);
    expect(accepted).toBeLessThan(RUNS);
    const sample = [...compiled.values()].slice(0, STAP_SAMPLE);
    for (const guest of sample) {
      const parsed = await stap(guest, { pass: 1, options: splitOptions(GUEST_STAP_OPTIONS) });
      expect(parsed.ok, parsed.stderr).toBe(true);
    }
    console.log(`fuzz: ${RUNS} inputs, ${accepted} compiled, ${compiled.size} distinct scripts, ${sample.length} parsed with stap -p1`);
  }, 3_600_000);

  test(`the CLI exits 0, 1 or 2 and writes nothing on error (${CLI_RUNS} inputs)`, () => {
    fc.assert(
      fc.property(mutatedRule, (source) => {
        const dir = mkdtempSync(join(tmpdir(), "qtrip-fuzz-"));
        writeFileSync(join(dir, "fuzz.qt"), source);
        const r = qtrip(["compile", "fuzz.qt"], dir);
        expect([0, 1, 2]).toContain(r.status);
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(existsSync(join(dir, "fuzz.guest.stp"))).toBe(r.status === 0);
      }),
      { numRuns: CLI_RUNS },
    );
  }, 600_000);
});
