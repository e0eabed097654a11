#!/usr/bin/env node
// Benchmark, not a test: time and peak memory of `qtrip check` on inputs at and
// past the limits (test/safety/limits.test.ts asserts what they answer).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(join(tmpdir(), "qtrip-limits-"));
const inputs = {
  "5,000 rules": Array.from({ length: 5000 }, (_, i) => `when syscall latency > ${i + 1}ms on pid ${i}`).join("\n"),
  "64 rules (the most)": Array.from({ length: 64 }, (_, i) => `when syscall latency > ${i + 1}ms on pid ${i + 1}`).join("\n"),
  "200 kB string": `when message "${"x".repeat(200_000)}"`,
  "400-digit number": `when syscall latency > 1${"0".repeat(399)}ms`,
  "10,000 names in a list": `when syscall ${Array(10_000).fill("read").join(", ")} latency > 1s`,
  "1 MB of comments": `${"# filler comment line\n".repeat(48_000)}when syscall latency > 1s`,
};
// Report the child's own peak memory as it exits.
const wrapper = join(dir, "measure.mjs");
writeFileSync(
  wrapper,
  `process.on("exit", () => process.stderr.write("maxrss " + process.resourceUsage().maxRSS + "\\n"));\n` +
    `process.argv.splice(1, 1);\nawait import(${JSON.stringify(join(root, "dist/qtrip.js"))});\n`,
);
console.log("input                        result  time      peak RSS");
for (const [name, text] of Object.entries(inputs)) {
  const file = join(dir, "input.qt");
  writeFileSync(file, text);
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [wrapper, "x", "compile", "-o", dir, file], { encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rss = Number(/maxrss (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  console.log(`${name.padEnd(28)} exit ${r.status}  ${ms.toFixed(0).padStart(5)} ms  ${rss.toFixed(0).padStart(5)} MB`);
}
