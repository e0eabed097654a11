#!/usr/bin/env node
// Benchmark, not a test: wall time of `qtrip compile` on a one-rule file against
// node's own start-up (`node -e 0`). Run: npm run bench  (after npm run build).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const qtrip = join(root, "dist/qtrip.js");
const dir = mkdtempSync(join(tmpdir(), "qtrip-bench-"));
writeFileSync(join(dir, "rule.qt"), "when syscall latency > 200ms on pid 1234\n");
const runs = Number(process.env.RUNS ?? 30);

function median(args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: dir });
    if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const commands = [
  ["node -e 0", ["-e", "0"]],
  ["qtrip --version", [qtrip, "--version"]],
  ["qtrip compile rule.qt", [qtrip, "compile", "rule.qt"]],
];
const baseline = median(commands[0][1]);
console.log(`median of ${runs} runs (ms), node ${process.version}`);
for (const [name, args] of commands) {
  const ms = name === "node -e 0" ? baseline : median(args);
  console.log(`${name.padEnd(28)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / baseline).toFixed(2)}x`);
}
