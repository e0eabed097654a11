// The test tiers (test/tiers.mjs, `npm run test:TIER`): every test file is in one
// tier, each tier holds files, docs/testing.md documents each; and a test that
// needs what .ci/install makes skips, saying what is missing (test/support/installed.ts).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { needsInstalled } from "../support/installed.js";
import { repoRoot } from "../support/stap.js";

const listed = JSON.parse(execFileSync(process.execPath, [join(repoRoot, "test/tiers.mjs"), "--list"], { encoding: "utf8" })) as {
  tiers: Record<string, string[]>;
  files: Record<string, string>;
};
const names = [...Object.keys(listed.tiers), "unit"];
const scripts = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).scripts as Record<string, string>;

describe("test tiers", () => {
  test("each file has one tier; the cut puts the known files where they belong", () => {
    expect(Object.keys(listed.files).length).toBeGreaterThan(50);
    expect(listed.files["test/check/ui.test.ts"]).toBe("unit");
    expect(listed.files["test/codegen/examples.test.ts"]).toBe("stap");
    expect(listed.files["test/e2e/guest/syscall-latency.test.ts"]).toBe("guest");
    expect(listed.files["test/e2e/distros/kernel-interfaces.test.ts"]).toBe("distros");
    expect(listed.files["test/e2e/host/kdump.test.ts"]).toBe("host");
    expect(listed.files["test/e2e/chain/chain.test.ts"]).toBe("chain");
  });

  test.each(names)("%s: holds files, every path it names exists, an npm script runs it alone, docs/testing.md documents it", (tier) => {
    expect(Object.values(listed.files)).toContain(tier);
    for (const path of listed.tiers[tier] ?? []) expect(existsSync(join(repoRoot, path)), path).toBe(true);
    expect(scripts[`test:${tier}`]).toBe(`npm run build && node test/tiers.mjs ${tier}`);
    expect(readFileSync(join(repoRoot, "docs/testing.md"), "utf8")).toContain(`npm run test:${tier}`);
  });
});

describe("a test that needs what .ci/install makes", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test("runs where it is installed (this machine, after .ci/install)", () => {
    expect(needsInstalled("stap", "test-kernel", "qemu", "qemu-debug", "debuggers")).toBeUndefined();
  });

  test("skips with the reason when it is missing", () => {
    process.env.QTRIP_STAP_RUNTIME = "/nonexistent/stap-runtime";
    process.env.QTRIP_CACHE = "/nonexistent/cache";
    expect(needsInstalled("stap", "qemu-debug")).toBe(
      "needs what .ci/install makes: no SystemTap runtime copy at /nonexistent/stap-runtime (bash .ci/install makes it and links .cache/stap-runtime to it); " +
        "no QEMU with debug information in /nonexistent/cache/qemu-VERSION-KEY (bash .ci/install runs test/e2e/host/programs/build-qemu.sh)",
    );
    expect(needsInstalled("qemu")).toBeUndefined();
  });
});
