#!/usr/bin/env node
// Benchmark, not a test: qtrip's guest script in a real guest kernel under QEMU
// (the harness of test/e2e/guest), all timed from QEMU's side where it can be.
//   - trip latency: from the start of a 5 s nanosleep to the channel write, for a
//     200 ms threshold; boot time; the gap between the trip's log line and the write.
//   - guest overhead: throughput of a getppid() loop with no script, with bare
//     probes (the floor), with the generated script watching the loop's pid,
//     with a minimal hand-written script for the same rule, and with each
//     watching another pid (what unrelated tasks pay).
// Run: node test/bench/guest.mjs   (RUNS=3 boots per figure, LOOP_MS=3000 per loop)
// Under QEMU's emulation (TCG) every figure is inflated; compare them with each other.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createViteServer } from "vitest/node";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const runs = Number(process.env.RUNS ?? 3);
const loopMs = Number(process.env.LOOP_MS ?? 3000);

// The harness is TypeScript: load it through vite's module runner, as vitest does.
const vite = await createViteServer({ root, configFile: false, logLevel: "error", server: { middlewareMode: true, hmr: false, ws: false } });
const harness = await vite.ssrLoadModule("/test/e2e/guest/harness.ts");
const { buildModule, buildRuleModule, consoleTextAt, markerAt, PHASE, runGuest, trips } = harness;

const RULE = "param pid: int\nwhen syscall latency > 200ms on pid $pid\n";

// What one would write by hand for the same rule: start times in a global array,
// a 10 ms scan. SystemTap locks `starts` on every system call of every task.
const HAND_WRITTEN = `
global pid = 0 # staprun ... pid=N
%{
#include <asm/io.h>
%}
global starts%
function trip() %{ outb(0x1f, 0x3ff); %}
probe kernel.trace("raw_syscalls:sys_enter") { if (pid() == pid) starts[tid()] = gettimeofday_ns() }
probe kernel.trace("raw_syscalls:sys_exit") { if (pid() == pid) delete starts[tid()] }
probe timer.ms(10) {
	now = gettimeofday_ns()
	foreach (t in starts) if (now - starts[t] > 200000000) { trip(); exit() }
}
`;

// The floor: SystemTap's entry into both tracepoints and a pid test, touching no global.
const FLOOR = `
global pid = 0 # staprun ... pid=N
function nothing() %{ %} # embedded C: not optimised away
probe kernel.trace("raw_syscalls:sys_enter"), kernel.trace("raw_syscalls:sys_exit") { if (pid() == pid) nothing() }
`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 1) => x.toFixed(digits);

async function boot(module, session) {
  const run = await runGuest({ module, session });
  markerAt(run, PHASE.done); // the session ran to its end
  return run;
}

async function tripLatency(module) {
  const figures = { latency: [], boot: [], logToWrite: [] };
  for (let i = 0; i < runs; i++) {
    const run = await boot(module, "spawn t nanosleep:5000\narm pid=$pid_t\nrun t");
    const [trip] = trips(run);
    if (!trip) throw new Error(`no trip; console:\n${run.console}`);
    figures.latency.push((trip.us - markerAt(run, 1)) / 1000);
    figures.boot.push((markerAt(run, PHASE.booted) - run.startedUs) / 1000);
    const logged = consoleTextAt(run, "qtrip: tripped");
    if (logged !== undefined) figures.logToWrite.push((trip.us - logged) / 1000);
  }
  return figures;
}

/** getppid() calls per second in the guest, median of the runs; `watch` names the pid the script watches. */
async function throughput(module, watch) {
  const rates = [];
  for (let i = 0; i < runs; i++) {
    const session = [
      `spawn loop getppid:${loopMs}`,
      "spawn other nanosleep:0", // parked until after the loop: a pid that exists and makes no call
      module ? `arm pid=$pid_${watch}` : "",
      "run loop",
      "run other",
    ].join("\n");
    const run = await boot(module, session);
    const m = /getppid (\d+) calls in (\d+) ms/.exec(run.console);
    if (!m) throw new Error(`no loop result; console:\n${run.console}`);
    rates.push((Number(m[1]) * 1000) / Number(m[2]));
  }
  return median(rates);
}

try {
  const generated = await buildRuleModule({ source: RULE });
  const handWritten = await buildModule(HAND_WRITTEN);
  const floor = await buildModule(FLOOR);

  console.log(`qtrip guest benchmark: kernel ${harness.kernelRelease}, QEMU ${process.env.QTRIP_E2E_ACCEL ?? "tcg"}, ${runs} boot(s) per figure\n`);
  console.log("trip latency, 200 ms threshold, from the call's start to the channel write (QEMU's clock):");
  for (const [name, module] of [["generated", generated], ["hand-written", handWritten]]) {
    const t = await tripLatency(module);
    console.log(`  ${name.padEnd(13)} ${t.latency.map((x) => fmt(x)).join(", ")} ms  (median ${fmt(median(t.latency))} ms)`);
    console.log(`  ${"".padEnd(13)} boot, QEMU start to /init: median ${fmt(median(t.boot), 0)} ms`);
    // Only qtrip's script logs before it writes.
    if (t.logToWrite.length) console.log(`  ${"".padEnd(13)} its log line to the write: median ${fmt(median(t.logToWrite), 2)} ms`);
  }
  console.log();

  const rows = [
    ["no script", undefined, "loop"],
    ["floor: probes with a pid test only", floor, "other"],
    ["generated, on the loop's pid", generated, "loop"],
    ["hand-written, on the loop's pid", handWritten, "loop"],
    ["generated, on another pid", generated, "other"],
    ["hand-written, on another pid", handWritten, "other"],
  ];
  console.log(`getppid() loop, ${loopMs} ms, median of ${runs}:`);
  console.log(`  ${"script".padEnd(34)} ${"calls/s".padStart(10)} ${"ratio".padStart(7)} ${"+µs/call".padStart(9)}`);
  let base;
  for (const [name, module, watch] of rows) {
    const rate = await throughput(module, watch);
    base ??= rate;
    console.log(`  ${name.padEnd(34)} ${fmt(rate, 0).padStart(10)} ${fmt(rate / base, 2).padStart(7)} ${fmt(1e6 / rate - 1e6 / base, 2).padStart(9)}`);
  }
} finally {
  await vite.close();
}
