#!/usr/bin/env node
// Benchmark, not a test: qtrip's guest script in a real guest kernel under QEMU
// (the harness of test/e2e/guest). Three tables, printed as one:
//   - wake-ups: local timer interrupts (LOC) and IRQ-work interrupts (IWI) per second
//     per vCPU of an idle 2-vCPU guest over 5 s, against a begin-only script (the floor),
//     beside the hand-written tracker;
//   - wake-ups of an idle vCPU beside a busy one: vCPU 0's interrupts per second while a task
//     spins on vCPU 1 (what watching a neighbour costs: vcpu stall), against the begin-only script;
//   - trip precision: how long after its threshold a call, request or wait still in
//     flight trips, from QEMU's trace (marker to channel write) and from the guest's
//     own log clock (qt-trigger's /dev/kmsg line to qtrip's trip line), beside the
//     hand-written tracker;
//   - per-call cost: a getppid() loop in 1, 2 and 4 threads on 1, 2 and 4 vCPUs, with
//     no script, bare probes (the floor), qtrip and a hand-written tracker, each
//     watching the loop's pid and another pid; whether each script was still loaded.
// Run: node test/bench/guest.mjs   (RUNS=3 boots per figure, LOOP_MS=3000 per loop;
//   SECTIONS=wake-ups,busy-neighbour,precision,costs, VCPUS=1,2,4, ROWS=floor,another and RULES=steal to measure less)
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
const { buildModule, buildRuleModule, markerAt, lastMarkerBeforeTrip, PHASE, runGuest, trips, virtioDisk } = harness;

// What one would write by hand for the rule: start times in a global array,
// a 10 ms scan. SystemTap locks `starts` on every system call of every task.
// `test`: the filter, e.g. "pid() == pid".
const handWritten = (test) => `
global pid = 0 # staprun ... pid=N
%{
#include <asm/io.h>
%}
global starts%
function trip() %{ printk(KERN_EMERG "qtrip: tripped: hand-written\\n"); outb(0x1f, 0x3ff); %}
probe kernel.trace("raw_syscalls:sys_enter") { if (${test}) starts[tid()] = gettimeofday_ns() }
probe kernel.trace("raw_syscalls:sys_exit") { if (${test}) delete starts[tid()] }
probe timer.ms(10) {
	now = gettimeofday_ns()
	foreach (t in starts) if (now - starts[t] > 200000000) { trip(); exit() }
}
`;
const HAND_WRITTEN = handWritten("pid() == pid");

// The floor: SystemTap's entry into both tracepoints and a pid test, touching no global.
const FLOOR = `
global pid = 0 # staprun ... pid=N
function nothing() %{ %} # embedded C: not optimised away
probe kernel.trace("raw_syscalls:sys_enter"), kernel.trace("raw_syscalls:sys_exit") { if (pid() == pid) nothing() }
`;

const BEGIN_ONLY = `function nothing() %{ %}\nprobe begin { nothing() }\n`;

/** RULES=steal,vcpu: only the wake-up rows whose rule contains one of these words. */
const chosen = (source) => !process.env.RULES || process.env.RULES.split(",").some((w) => source.includes(w));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 1) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits));
const row = (cells, widths) => `  ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[0]) : String(c).padStart(widths[i]))).join(" ")}`;

async function boot(spec) {
  const run = await runGuest(spec);
  markerAt(run, PHASE.done); // the session ran to its end
  return run;
}

// ---------------------------------------------------------------------------
// Wake-ups of an idle guest

const IDLE_MS = 5000;
const interrupts = (tag) => `grep -E "^ *(LOC|IWI):" /proc/interrupts | sed "s/^/qt-bench: ${tag} /"`;

/** Interrupts per second per vCPU over IDLE_MS of an idle 2-vCPU guest: { LOC: [cpu0, cpu1], IWI: [...] }. */
async function idleRates(module) {
  const run = await boot({ module, smp: 2, session: ["arm", "sleep 1", interrupts("before"), `sleep ${IDLE_MS / 1000}`, interrupts("after")].join("\n") });
  const counts = (tag) => {
    const out = {};
    for (const m of run.console.matchAll(new RegExp(`qt-bench: ${tag} +(LOC|IWI): +(\\d+) +(\\d+)`, "g"))) out[m[1]] = [Number(m[2]), Number(m[3])];
    return out;
  };
  const before = counts("before");
  const after = counts("after");
  if (!before.LOC || !after.LOC) throw new Error(`no interrupt counts; console:\n${run.console}`);
  const rates = {};
  for (const kind of Object.keys(after)) rates[kind] = after[kind].map((n, cpu) => ((n - (before[kind]?.[cpu] ?? 0)) * 1000) / IDLE_MS);
  return rates;
}

const IDLE_RULES = [
  ["syscall latency > 200ms on pid 99999", "(nothing in flight)"],
  ["io latency > 1s", "(no I/O)"],
  ['sched latency > 50ms on comm "nobody-here"', ""],
  ['task blocked > 500ms on comm "nobody-here"', ""],
  ['function "hrtimer_nanosleep" latency > 200ms on pid 99999', ""],
  ["tick gap > 100ms", ""],
  ["vcpu stall > 100ms", ""],
  ["steal > 20% within 1s", ""],
  ["reclaim stall > 1s", "(no memory pressure)"],
];

async function wakeUps() {
  const sample = async (module) => {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(await idleRates(module));
    const med = (kind, cpu) => median(all.map((r) => r[kind]?.[cpu] ?? 0));
    return { LOC: [med("LOC", 0), med("LOC", 1)], IWI: [med("IWI", 0), med("IWI", 1)] };
  };
  const control = await sample(await buildModule(BEGIN_ONLY));
  const widths = [58, 16, 16, 14, 14];
  const lines = [
    `wake-ups of an idle 2-vCPU guest, per second over ${IDLE_MS / 1000} s, median of ${runs} (LOC: local timer interrupts; IWI: IRQ work):`,
    row(["script", "LOC cpu0/cpu1", "IWI cpu0/cpu1", "extra, busiest", "extra, all"], widths),
    row(["begin probe only (control)", `${fmt(control.LOC[0], 0)}/${fmt(control.LOC[1], 0)}`, `${fmt(control.IWI[0], 0)}/${fmt(control.IWI[1], 0)}`, "0", "0"], widths),
  ];
  const rows = [
    ...IDLE_RULES.filter(([source]) => chosen(source)).map(([source, note]) => [`${source} ${note}`.trim(), () => buildRuleModule({ source: `when ${source}\n` })]),
    ["hand-written syscall latency on pid 99999 (array + 10 ms timer)", () => buildModule(HAND_WRITTEN.replace("global pid = 0", "global pid = 99999"))],
  ];
  for (const [label, module] of rows) {
    const r = await sample(await module());
    // Which vCPU runs the init's shell varies from boot to boot: compare the busiest with the busiest, and the sums.
    const busiest = Math.max(...r.LOC) - Math.max(...control.LOC);
    const all = r.LOC[0] + r.LOC[1] + r.IWI[0] + r.IWI[1] - (control.LOC[0] + control.LOC[1] + control.IWI[0] + control.IWI[1]);
    const signed = (x) => `${x >= 0 ? "+" : ""}${fmt(x, 0)}`;
    lines.push(row([label, `${fmt(r.LOC[0], 0)}/${fmt(r.LOC[1], 0)}`, `${fmt(r.IWI[0], 0)}/${fmt(r.IWI[1], 0)}`, signed(busiest), signed(all)], widths));
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Wake-ups of an idle vCPU beside a busy one: the CPU that watches its neighbour

const neighbourInterrupts = (tag) => `grep -E "^ *(LOC|IWI|CAL):" /proc/interrupts | sed "s/^/qt-bench: ${tag} /"`;

// The guest's own tracefs, on vCPU 0 only, says who woke it: each hrtimer by its function (the
// tick's, qtrip's, others'), and the cross-CPU calls. LOC alone cannot tell qtrip's wake-ups from
// the guest's: in some boots vCPU 0 is busy with the guest's own work and ticks ~90 times a second
// with no script loaded at all (session 9: 476 ticks in 5 s in one begin-only boot of two).
const TRACE = "/sys/kernel/tracing";
const TRACE_ON = [
  `mount -t tracefs none ${TRACE} 2>/dev/null; echo 1 > ${TRACE}/tracing_cpumask`,
  `echo 1 > ${TRACE}/events/timer/hrtimer_expire_entry/enable; echo 1 > ${TRACE}/events/irq_vectors/call_function_single_entry/enable`,
].join("; ");
const TRACE_COUNTS = [
  `echo 0 > ${TRACE}/tracing_on`,
  `grep -o "function=[a-zA-Z_0-9.]*" ${TRACE}/trace | sort | uniq -c | sed "s/^/qt-bench: timer /"`,
  `echo "$(grep -c call_function_single_entry ${TRACE}/trace) calls" | sed "s/^/qt-bench: timer /"`,
].join("; ");

/**
 * Per second on vCPU 0 (idle) over IDLE_MS while a task spins on vCPU 1: its interrupts { LOC, IWI,
 * CAL }, and from its trace the tick's expirations (TICK), qtrip's timers' (QT: functions qt_*) and
 * the cross-CPU calls it received (CALLS).
 */
async function neighbourRates(module) {
  const session = [
    `spawn s cpu:1 spin:${IDLE_MS + 3000}`,
    "arm",
    "run s &",
    TRACE_ON,
    "sleep 1",
    `echo > ${TRACE}/trace; ${neighbourInterrupts("before")}`,
    `sleep ${IDLE_MS / 1000}`,
    neighbourInterrupts("after"),
    TRACE_COUNTS,
    "wait",
  ].join("\n");
  const run = await boot({ module, smp: 2, session });
  const counts = (tag) => Object.fromEntries([...run.console.matchAll(new RegExp(`qt-bench: ${tag} +(LOC|IWI|CAL): +(\\d+)`, "g"))].map((m) => [m[1], Number(m[2])]));
  const before = counts("before");
  const after = counts("after");
  if (before.LOC === undefined || after.LOC === undefined) throw new Error(`no interrupt counts; console:\n${run.console}`);
  const timers = [...run.console.matchAll(/qt-bench: timer +(\d+) function=(\S+)/g)].map((m) => ({ n: Number(m[1]), fn: m[2] }));
  const calls = /qt-bench: timer (\d+) calls/.exec(run.console);
  if (!calls) throw new Error(`no trace counts; console:\n${run.console}`);
  const perSecond = (n) => (n * 1000) / IDLE_MS;
  const sum = (pick) => perSecond(timers.filter(pick).reduce((a, t) => a + t.n, 0));
  return {
    ...Object.fromEntries(Object.keys(after).map((k) => [k, perSecond(after[k] - (before[k] ?? 0))])),
    // A boot whose rule tripped (a loaded host does not run a vCPU for D) stops watching: its figures are not the cost.
    TRIPPED: /qtrip: tripped/.test(run.console) ? 1 : 0,
    TICK: sum((t) => t.fn === "tick_sched_timer"),
    QT: sum((t) => t.fn.startsWith("qt_")),
    CALLS: perSecond(Number(calls[1])),
  };
}

async function busyNeighbour() {
  const KEYS = ["LOC", "IWI", "CAL", "TICK", "QT", "CALLS"];
  const sample = async (module) => {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(await neighbourRates(module));
    const kept = all.filter((r) => !r.TRIPPED);
    return { ...Object.fromEntries(KEYS.map((k) => [k, median(kept.map((r) => r[k] ?? 0))])), tripped: all.length - kept.length };
  };
  const control = await sample(await buildModule(BEGIN_ONLY));
  const widths = [40, 7, 7, 7, 9, 9, 9, 12];
  const cells = (label, r, extra) => [`${label}${r.tripped ? ` (${r.tripped} tripped)` : ""}`, ...KEYS.map((k) => fmt(r[k], 0)), extra];
  const lines = [
    `wake-ups of idle vCPU 0 while a task spins on vCPU 1, per second over ${IDLE_MS / 1000} s, median of ${runs}`,
    "(interrupts: LOC local timer, IWI IRQ work, CAL cross-CPU calls; from vCPU 0's own trace: TICK the tick's",
    "expirations, QT qtrip's timers', CALLS cross-CPU calls received; qtrip's extra: QT and CALLS beyond the control;",
    "a boot whose rule tripped, its watch then off, is left out of the medians and counted beside the row):",
    row(["script", ...KEYS, "qtrip extra"], widths),
    row(cells("begin probe only (control)", control, "0"), widths),
  ];
  for (const source of ["tick gap > 100ms", "vcpu stall > 100ms", "vcpu stall > 500ms", "steal > 20% within 1s"].filter(chosen)) {
    const r = await sample(await buildRuleModule({ source: `when ${source}\n` }));
    const extra = r.QT + r.CALLS - (control.QT + control.CALLS);
    lines.push(row(cells(source, r, `${extra >= 0 ? "+" : ""}${fmt(extra, 0)}`), widths));
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Trip precision

const VIRTIO = ["virtio_pci", "virtio_blk"];
const throttledDisks = () => [virtioDisk({ mib: 1 }), virtioDisk({ mib: 1, throttling: "iops-total=1" })];
const THRESHOLD_MS = 200;
const TRIP_LOG = "dmesg | grep -E 'qt-trigger: call|qtrip: tripped' | sed 's/^/qt-bench: /'";

/**
 * Per condition: the rule, the session, and when the thing started relative to call `k`'s start
 * (the sched wait starts when the sleeper's 150 ms timer wakes it, behind a FIFO spin).
 */
const PRECISION = [
  { name: "syscall latency", rule: `when syscall latency > ${THRESHOLD_MS}ms on comm "victim"`, session: "spawn t comm:victim kmsg:1 nanosleep:1000\narm\nrun t" },
  { name: "  hand-written", script: handWritten('execname() == "victim"'), session: "spawn t comm:victim kmsg:1 nanosleep:1000\narm\nrun t" },
  {
    name: "function latency",
    rule: `when function "hrtimer_nanosleep" latency > ${THRESHOLD_MS}ms on comm "victim"`,
    session: "spawn t comm:victim kmsg:1 nanosleep:1000\narm\nrun t",
  },
  { name: "io latency", rule: `when io latency > ${THRESHOLD_MS}ms on device "vdb"`, disks: true, session: "spawn t kmsg:1 dread:/dev/vdbx3\narm\nrun t" },
  { name: "task blocked", rule: `when task blocked > ${THRESHOLD_MS}ms on comm "victim"`, disks: true, session: "spawn t comm:victim kmsg:1 dread:/dev/vdbx3\narm\nrun t" },
  {
    name: "sched latency",
    rule: `when sched latency > ${THRESHOLD_MS}ms on comm "victim"`,
    session: "spawn v comm:victim kmsg:1 nanosleep:150\nspawn h base:0xc0 fifo:50 nanosleep:50 spin:700\narm\nrun v h",
    startsAfterMs: 150,
  },
];

/** The guest's log clock, in ms, of a dmesg line that matches. */
function logClock(console, pattern) {
  const m = new RegExp(`qt-bench: (?:<\\d+>)?\\[ *(\\d+\\.\\d+)\\] ${pattern}`).exec(console);
  return m ? Number(m[1]) * 1000 : undefined;
}

async function precision() {
  const widths = [18, 22, 22];
  const lines = [
    `trip precision: ms past the ${THRESHOLD_MS} ms threshold at which a thing still in flight trips, ${runs} run(s) each:`,
    row(["condition", "from QEMU's trace", "in the guest"], widths),
  ];
  for (const c of PRECISION) {
    const module = c.script ? await buildModule(c.script) : await buildRuleModule({ source: `${c.rule} as "late"\n` });
    const qemu = [];
    const guest = [];
    for (let i = 0; i < runs; i++) {
      const run = await boot({ module, session: `${c.session}\n${TRIP_LOG}`, ...(c.disks ? { kernelModules: VIRTIO, drives: throttledDisks() } : {}) });
      const [trip] = trips(run);
      if (!trip) throw new Error(`${c.name}: no trip; console:\n${run.console}`);
      const call = c.name === "sched latency" ? 1 : lastMarkerBeforeTrip(run);
      const past = (c.startsAfterMs ?? 0) + THRESHOLD_MS;
      qemu.push((trip.us - markerAt(run, call)) / 1000 - past);
      const started = logClock(run.console, `qt-trigger: call ${call} starts`);
      const tripped = logClock(run.console, "qtrip: tripped");
      if (started !== undefined && tripped !== undefined) guest.push(tripped - started - past);
      else if (process.env.DEBUG) console.error(run.console.split("\n").filter((l) => /qt-bench|qt-trigger|qtrip/.test(l)).join("\n"));
    }
    const show = (xs) => (xs.length ? `${xs.map((x) => fmt(x, 2)).join(", ")}` : "-");
    lines.push(row([c.name, show(qemu), show(guest)], widths));
  }
  lines.push("  (hand-written: the same syscall rule as a global array and a 10 ms timer scan; the floor is 0)");
  lines.push("  (sched latency: from the sleeper's wake-up, 150 ms after its call began)");
  return lines;
}

// ---------------------------------------------------------------------------
// Per-call cost under load

const RULE = "param pid: int\nwhen syscall latency > 200ms on pid $pid\n";
const NAMED_RULE = "param pid: int\nwhen syscall futex, epoll_wait latency > 200ms on pid $pid\n";
// VCPUS=4 measures only that configuration; ROWS=floor,another only the scripts whose names contain those words.
const CONFIGS = [
  { vcpus: 1, threads: 1 },
  { vcpus: 2, threads: 2 },
  { vcpus: 4, threads: 4 },
].filter((c) => !process.env.VCPUS || process.env.VCPUS.split(",").map(Number).includes(c.vcpus));
const ROWS = process.env.ROWS?.split(",");

/** getppid() calls per second in the guest, median of the runs, and whether the script was still loaded after the loop. */
async function throughput(module, watch, { vcpus, threads }) {
  const rates = [];
  let stopped = 0;
  for (let i = 0; i < runs; i++) {
    const session = [
      `spawn loop getppid:${loopMs}x${threads}`,
      "spawn other nanosleep:0", // parked until after the loop: a pid that exists and makes no call
      module ? `arm pid=$pid_${watch}` : "",
      "run loop",
      'grep -q "^$(basename $MODULE .ko) " /proc/modules || echo "qt-bench: script gone"',
      "run other",
    ].join("\n");
    const run = await boot({ module, session, smp: vcpus, timeoutMs: 180_000 });
    const m = /getppid (\d+) calls in (\d+) ms/.exec(run.console);
    if (!m) throw new Error(`no loop result; console:\n${run.console}`);
    rates.push((Number(m[1]) * 1000) / Number(m[2]));
    if (module && run.console.includes("qt-bench: script gone")) stopped++;
  }
  return { rate: median(rates), stopped };
}

async function costs() {
  const generated = await buildRuleModule({ source: RULE });
  const named = await buildRuleModule({ source: NAMED_RULE });
  const handWritten = await buildModule(HAND_WRITTEN);
  const floor = await buildModule(FLOOR);
  const scripts = [
    ["no script", undefined, "loop"],
    ["floor: bare probes with a pid test", floor, "other"],
    ["qtrip, on the loop's pid", generated, "loop"],
    ["hand-written, on the loop's pid", handWritten, "loop"],
    ["qtrip, on another pid (unwatched tasks)", generated, "other"],
    ["hand-written, on another pid", handWritten, "other"],
    ["qtrip, futex/epoll_wait of the loop's pid", named, "loop"],
  ];
  const widths = [44, ...CONFIGS.map(() => 17)];
  const lines = [
    `per-call cost of a getppid() loop, ${loopMs} ms, median of ${runs}: ns added per call (script stopped itself: !)`,
    row(["script", ...CONFIGS.map((c) => `${c.threads} thr/${c.vcpus} vCPU`)], widths),
  ];
  const base = [];
  // The no-script row is every other row's base: always measured.
  for (const [name, module, watch] of scripts.filter(([name, module]) => !module || !ROWS || ROWS.some((w) => name.includes(w)))) {
    const cells = [];
    for (const [i, config] of CONFIGS.entries()) {
      const { rate, stopped } = await throughput(module, watch, config);
      // Per call of one thread: each thread's calls cost threads / rate of the whole loop's time.
      const perCall = (1e9 * config.threads) / rate;
      base[i] ??= perCall;
      cells.push(module ? `${fmt(perCall - base[i], 0)}${stopped ? "!" : ""}` : `${fmt(perCall, 0)} ns/call`);
    }
    lines.push(row([name, ...cells], widths));
  }
  return lines;
}

try {
  const sections = process.env.SECTIONS?.split(",") ?? ["wake-ups", "busy-neighbour", "precision", "costs"];
  const out = [`qtrip guest benchmark: kernel ${harness.kernelRelease}, QEMU ${process.env.QTRIP_E2E_ACCEL ?? "tcg"}, ${runs} boot(s) per figure`, ""];
  if (sections.includes("wake-ups")) out.push(...(await wakeUps()), "");
  if (sections.includes("busy-neighbour")) out.push(...(await busyNeighbour()), "");
  if (sections.includes("precision")) out.push(...(await precision()), "");
  if (sections.includes("costs")) out.push(...(await costs()));
  console.log(out.join("\n"));
} finally {
  await vite.close();
}
