#!/usr/bin/env node
// Benchmark, not a test: wall time of qtrip's commands on a one-rule file against
// node's own start-up (`node -e 0`), with the start-up snapshot (the command's
// shell script dist/qtrip) and without it (dist/qtrip.js). Run: npm run bench.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const qtrip = join(root, "dist/qtrip");
const dir = mkdtempSync(join(tmpdir(), "qtrip-bench-"));
writeFileSync(join(dir, "rule.qt"), "when syscall latency > 200ms on pid 1234\n");
const runs = Number(process.env.RUNS ?? 30);

function median([command, ...args]) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(command, args, { cwd: dir });
    if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const commands = [
  ["node -e 0", [process.execPath, "-e", "0"]],
  ["qtrip --version", [qtrip, "--version"]],
  ["qtrip check rule.qt", [qtrip, "check", "rule.qt"]],
  ["qtrip compile rule.qt", [qtrip, "compile", "rule.qt"]],
  ["qtrip compile (no snapshot)", [process.execPath, join(root, "dist/qtrip.js"), "compile", "rule.qt"]],
];
const baseline = median(commands[0][1]);
console.log(`median of ${runs} runs (ms), node ${process.version}`);
for (const [name, args] of commands) {
  const ms = name === "node -e 0" ? baseline : median(args);
  console.log(`${name.padEnd(28)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / baseline).toFixed(2)}x`);
}
