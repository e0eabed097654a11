// Every file in examples/: golden outputs, and both scripts built into kernel
// modules by the real SystemTap translator against the Debian headers (no debuginfo).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { GUEST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { HOST_ACTIONS, HOST_PROBES, HOST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { repoRoot, splitOptions, stap } from "../support/stap.js";
import { sampledOut, taken } from "../e2e/support/sample.js";
import { needsInstalled } from "../support/installed.js";

const examplesDir = join(repoRoot, "examples");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".qt")).sort();

function compileExample(name: string, options: Parameters<typeof compileSource>[1] extends infer O ? Partial<O> : never = {}) {
  const source = readFileSync(join(examplesDir, name), "utf8");
  const result = compileSource(source, { fileName: name, ...options });
  if (!result.outputs) throw new Error(`${name} does not compile: ${JSON.stringify(result.diagnostics)}`);
  return result.outputs;
}

describe("examples", () => {
  test("the goldens are the examples': four files each and the plan (test/plan/plan.test.ts), none left from an example that is gone", () => {
    const goldens = readdirSync(join(import.meta.dirname, "golden"), { withFileTypes: true }).filter((e) => e.isFile());
    const expected = examples.flatMap((e) => ["guest.sh", "guest.stp", "host.sh", "host.stp", "plan.json"].map((kind) => e.replace(/\.qt$/, `.${kind}`)));
    expect(goldens.map((e) => e.name).sort()).toEqual(expected.sort());
    expect(examples).toContain("io-stall.qt"); // the ftrace goldens' example
  });

  test.each(examples)("%s: golden guest and host scripts, and the guest's launcher", async (name) => {
    const outputs = compileExample(name);
    await expect(outputs.guest).toMatchFileSnapshot(`golden/${outputs.guestName}`);
    await expect(outputs.launcher).toMatchFileSnapshot(`golden/${outputs.launcherName}`);
    await expect(outputs.host).toMatchFileSnapshot(`golden/${outputs.hostName}`);
    // The SystemTap host backend's launcher, rule.host.sh.
    expect(outputs.hostCompanion?.name).toBe(outputs.hostName.replace(/\.stp$/, ".sh"));
    await expect(outputs.hostCompanion!.text).toMatchFileSnapshot(`golden/${outputs.hostCompanion!.name}`);
  });

  // Four examples a run with this machine's SystemTap, rotating; every example builds every run with one
  // Debian suite's own SystemTap (test/targets/builds.test.ts).
  test.for(examples.map((name, i) => [name, i] as const))("%s: the guest script builds with stap -p4", { timeout: 300_000 }, async ([name, i], ctx) => {
    const missing = needsInstalled("stap", "test-kernel");
    if (missing) return ctx.skip(missing);
    if (!taken("examples-build", i, examples.length, 4)) return ctx.skip(sampledOut("examples-build"));
    const { guest } = compileExample(name);
    const built = await stap(guest, { options: splitOptions(GUEST_STAP_OPTIONS) });
    expect(built.stderr).not.toMatch(/error/i);
    expect(built.ok).toBe(true);
  });

  // The dry run differs from the armed script in its trip function alone (golden files above): three examples a run, rotating.
  test.for(examples.map((name, i) => [name, i] as const))("%s: the dry-run guest script builds with stap -p4", { timeout: 300_000 }, async ([name, i], ctx) => {
    const missing = needsInstalled("stap", "test-kernel");
    if (missing) return ctx.skip(missing);
    if (!taken("examples-dry-run", i, examples.length, 3)) return ctx.skip(sampledOut("examples-dry-run"));
    const { guest } = compileExample(name, { dryRun: true });
    const built = await stap(guest, { options: splitOptions(GUEST_STAP_OPTIONS) });
    expect(built.ok, built.stderr).toBe(true);
  });

  // The host script depends on the channel and options only: three of the six actions and probe points a run,
  // rotating (the e2e host files build and load log on both probe points and each crash action on one).
  // The qemu probe point is built against a running QEMU (stap -x): test/e2e/host/qemu-probe.test.ts.
  const hostVariants = HOST_ACTIONS.flatMap((action) => HOST_PROBES.filter((p) => p !== "qemu").map((probe) => [action, probe] as const));
  test.for(hostVariants.map(([action, probe], i) => [action, probe, i] as const))("host script, action %s, probe %s, builds with stap -p4", { timeout: 300_000 }, async ([action, probe, i], ctx) => {
    const missing = needsInstalled("stap", "test-kernel");
    if (missing) return ctx.skip(missing);
    if (!taken("examples-host", i, hostVariants.length, 3)) return ctx.skip(sampledOut("examples-host"));
    const { host } = compileExample(examples[0], { hostAction: action, hostProbe: probe });
    const built = await stap(host, { options: splitOptions(HOST_STAP_OPTIONS) });
    expect(built.ok, built.stderr).toBe(true);
  });
});
