// Allowances (`allow W0004`) through the library, for what the UI cases in ui/
// do not show: what a rule's allowance covers, what compiles, what `explain`
// says; and the warning codes kept in step between the checker and the registry
// an allowance reads (src/diagnostics/warnings.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkSource, compileSource } from "../../src/compile.js";
import { WARNINGS } from "../../src/diagnostics/warnings.js";
import { explain } from "../../src/explain/explain.js";
import { repoRoot } from "../support/stap.js";

const codes = (source: string) => checkSource(source, { fileName: "rule.qt" }).diagnostics.map((d) => [d.span.start.line, d.code]);

describe("an allowance", () => {
  test("silences its codes on its own rule, and nothing else", () => {
    const source = "param p: int\nwhen syscall futex, futex latency > 1s on pid 1 allow W0004\nwhen syscall futex latency > 1s on pid 1\n";
    // W0003 (listed twice) is not allowed; W0001 is about a parameter, not a rule.
    expect(codes(source)).toEqual([
      [1, "W0001"],
      [2, "W0003"],
      [3, "W0004"],
    ]);
  });

  test("silences every warning of its code on the rule, and several codes at once", () => {
    expect(codes("when syscall futex, poll, read latency > 1s on pid 1 allow W0004")).toEqual([]);
    expect(codes('when io latency > 1s on device "dm-0" allow W0006')).toEqual([]);
    expect(codes("when syscall latency > 1s on pid 1 allow W0005, W0004")).toEqual([[1, "W0008"]]);
  });

  test("with an error code does not compile; with unknown or unneeded codes it does", () => {
    expect(compileSource("when syscall futex latency > 1s allow E0140", { fileName: "rule.qt" }).outputs).toBeUndefined();
    expect(compileSource("when syscall futex latency > 1s allow W0004, W0999, W0001", { fileName: "rule.qt" }).outputs).toBeDefined();
  });

  test("changes no probe: the guest script differs only in the comment quoting the rule", () => {
    const guest = (source: string) => compileSource(source, { fileName: "rule.qt" }).outputs!.guest;
    const plain = guest("when syscall futex latency > 1s on pid 1\n").split("\n");
    const allowed = guest("when syscall futex latency > 1s on pid 1 allow W0004\n").split("\n");
    const differ = allowed.filter((line, i) => line !== plain[i]);
    expect(allowed).toHaveLength(plain.length);
    // The header's digest of the source, its quote of the rule, and the handler's.
    expect(differ).toEqual([
      expect.stringMatching(/^# {3}sha256 [0-9a-f]{64}$/),
      "#   rule.qt:1: when syscall futex latency > 1s on pid 1 allow W0004",
      "\t# rule.qt:1: when syscall futex latency > 1s on pid 1 allow W0004",
    ]);
  });

  test("is said by explain, with what the code means; only the codes it silenced", () => {
    const { checked } = checkSource("when syscall futex latency > 1s on pid 1 allow W0004, W0006", { fileName: "rule.qt" });
    expect(checked?.rules[0].allows).toEqual(["W0004"]);
    expect(explain(checked!, { fileName: "rule.qt", dryRun: false })).toContain(
      "  Allows W0004 (system call that blocks by design): qtrip check does not warn about it for this rule.",
    );
    const plain = checkSource("when syscall pread64 latency > 1s on pid 1", { fileName: "rule.qt" }).checked!;
    expect(plain.rules[0].allows).toBeUndefined();
    expect(explain(plain, { fileName: "rule.qt", dryRun: false })).not.toContain("Allows");
  });
});

describe("warning codes", () => {
  const emitted = new Set(
    readdirSync(join(repoRoot, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.parentPath.includes("/src/report"))
      .flatMap((e) => [...readFileSync(join(e.parentPath, e.name), "utf8").matchAll(/warning\("(W\d{4})"/g)].map((m) => m[1]!)),
  );

  test("every warning the checker emits is one an allowance may name, and no other", () => {
    expect([...emitted].sort()).toEqual(Object.keys(WARNINGS).sort());
  });
});
