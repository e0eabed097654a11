// Inputs at and past the limits get a clear error or a correct result.
// Their time and memory are measured by test/bench/limits.mjs, not asserted here.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { qtripBin } from "../support/cli.js";

function codes(source: string): string[] {
  return compileSource(source, { fileName: "big.qt" }).diagnostics.map((d) => d.code);
}

test("a 5,000-rule file: one clear error naming the limit", () => {
  const source = Array.from({ length: 5000 }, (_, i) => `when syscall latency > ${i + 1}ms on tid ${i}`).join("\n");
  const { diagnostics } = compileSource(source, { fileName: "big.qt" });
  expect(diagnostics.map((d) => d.code)).toEqual(["E0131"]);
  expect(diagnostics[0].message).toBe("a rule file has at most 64 rules; this one has 5000");
  expect(diagnostics[0].span.start.line).toBe(65);
});

test("64 rules compile, sharing one handler per probe point", () => {
  const source = Array.from({ length: 64 }, (_, i) => `when syscall latency > ${i + 1}ms on pid ${i + 1}`).join("\n");
  const guest = compileSource(source, { fileName: "big.qt" }).outputs!.guest;
  expect(guest.match(/^probe kernel\.trace\("raw_syscalls:sys_enter"\)/gm)).toHaveLength(1);
  expect(guest).toContain("qt_rules |= 0x8000000000000000");
});

test("a 200 kB string: too long, said once", () => {
  expect(codes(`when message "${"x".repeat(200_000)}"`)).toEqual(["E0103"]);
});

test("a 400-digit number: too large, said once", () => {
  expect(codes(`when syscall latency > 1s 1${"0".repeat(399)} times within 1s`)).toEqual(["E0171"]);
  expect(codes(`when syscall latency > 1${"0".repeat(399)}ms`)).toEqual(["E0170"]);
});

test("a very long list of names: duplicates are warned, the rule compiles", () => {
  const names = Array.from({ length: 10_000 }, () => "openat").join(", ");
  const result = compileSource(`when syscall ${names} latency > 1s`, { fileName: "big.qt" });
  expect(result.outputs).toBeDefined();
  expect(result.diagnostics.map((d) => d.message)).toEqual(["'openat' is listed 10000 times"]);
});

test("an interrupted compile leaves every output whole or absent", async () => {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-int-"));
  const inputs = Array.from({ length: 40 }, (_, i) => `r${i}.qt`);
  for (const name of inputs) writeFileSync(join(dir, name), "when syscall latency > 1s\n");
  for (const delayMs of [0, 20, 40, 60, 80, 120]) {
    const child = spawn(qtripBin, ["compile", ...inputs], { cwd: dir, stdio: "ignore" });
    const closed = new Promise((resolve) => child.on("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill("SIGTERM");
    await closed;
    const files = readdirSync(dir);
    expect(files.filter((f) => f.includes("qtrip-tmp") || f.includes("qtrip-bak"))).toEqual([]);
    const written = files.filter((f) => f.endsWith(".stp"));
    expect([0, inputs.length * 2]).toContain(written.length);
    for (const f of written) rmSync(join(dir, f));
  }
}, 60_000);
