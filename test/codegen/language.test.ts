// Every example of the language reference compiles, and its scripts build with
// the real SystemTap translator against Debian's headers, without debuginfo.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { GUEST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { repoRoot, splitOptions, stap } from "../support/stap.js";
import { sampledOut, taken } from "../e2e/support/sample.js";
import { needsInstalled } from "../support/installed.js";

const dir = join(repoRoot, "test/fixtures/language");
const examples = readdirSync(dir).filter((f) => f.endsWith(".qt")).sort();

describe("LANGUAGE.md examples", () => {
  test.each(examples)("%s compiles", (name) => {
    const result = compileSource(readFileSync(join(dir, name), "utf8"), { fileName: name });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    // A rule trips from a handler (qt_trip_rule) or from the in-flight scan, with the label the begin probe copied.
    expect(result.outputs?.guest).toMatch(/qt_trip_rule\(|qt_set_label\(/);
  });

  // As written: `function "ext4_sync_file"` builds although ext4 is a module in Debian's kernel.
  // Two a run with this machine's SystemTap, rotating; each builds every run with one Debian suite's own (test/targets/builds.test.ts).
  test.for(examples.map((name, i) => [name, i] as const))("%s: the guest script builds with stap -p4", { timeout: 300_000 }, async ([name, i], ctx) => {
    const missing = needsInstalled("stap", "test-kernel");
    if (missing) return ctx.skip(missing);
    if (!taken("language-build", i, examples.length, 2)) return ctx.skip(sampledOut("language-build"));
    const result = compileSource(readFileSync(join(dir, name), "utf8"), { fileName: name });
    const built = await stap(result.outputs!.guest, { options: splitOptions(GUEST_STAP_OPTIONS) });
    expect(built.ok, built.stderr).toBe(true);
  });
});
