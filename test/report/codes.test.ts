// Every diagnostic code `qtrip report` can give (src/report) is asserted, with its text, by a
// report test: the rule-file UI cases (test/check/ui) do not cover captures.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { CODES } from "../../src/diagnostics/registry.js";
import { repoRoot } from "../support/stap.js";

function codesIn(folder: string, pattern: RegExp): Set<string> {
  const files = readdirSync(folder).filter((f) => f.endsWith(".ts"));
  return new Set(files.flatMap((f) => [...readFileSync(join(folder, f), "utf8").matchAll(pattern)].map((m) => m[1]!)));
}

test("every code in src/report is asserted by a test in test/report", () => {
  const given = codesIn(join(repoRoot, "src/report"), /"(E09\d\d)"/g);
  const asserted = codesIn(join(repoRoot, "test/report"), /\\?\[(E09\d\d)\\?\]/g);
  // The finder sees them all: the report's codes are the registry's E09xx, no more, no fewer.
  expect([...given].sort()).toEqual(CODES.filter((c) => c.startsWith("E09")).sort());
  expect([...given].filter((c) => !asserted.has(c)).sort()).toEqual([]);
});
