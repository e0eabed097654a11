// Benchmark of the ftrace host backend (issue 21, item 5) in the emulated KVM hypervisor
// (Debian 12's 6.1 under QEMU TCG with nested SVM; test/e2e/host/support), one boot:
//   - the recorder's cost to an exit-heavy guest: kvmguest makes N port writes to 0x3fe
//     (each one a KVM exit to the VMM's user space and back), then writes the channel;
//     exits per second with nothing armed (the floor), with the trigger alone (the stacks
//     action: kvm_pio of the chosen VMM's threads, its stacktrace and traceoff triggers),
//     with the full recorder (freeze), and with what one sets up by hand (an instance with
//     every kvm and sched event on, no filter), as ratios to the floor;
//   - the trip -> freeze delay: the channel write's kvm_pio record against the buffer's
//     last record (traceoff), in the trace clock, as the script reports it;
//   - the memory: the instance's ring buffer in all (buffer_total_size_kb), as armed.
//
//   node test/bench/host-ftrace.mjs     # BENCH_EXITS=N port writes a run (20000), BENCH_RUNS=R rounds (3)
//
// Not a test: it prints figures. TCG inflates every cost; compare the rows with each other.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");
const exits = Number(process.env.BENCH_EXITS ?? 20000);
const rounds = Number(process.env.BENCH_RUNS ?? 3);

mkdirSync(join(repoRoot, ".cache/bench"), { recursive: true });
const bundle = join(repoRoot, ".cache/bench/host-ftrace-harness.mjs");
await build({
  stdin: {
    contents: ['export * from "./test/e2e/host/support/emulated-host.ts";', 'export { compileSource } from "./src/compile.ts";'].join("\n"),
    resolveDir: repoRoot,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile: bundle,
  logLevel: "warning",
});
const { bootHost, matching, compileSource } = await import(bundle);

const RULE = `case "BENCH"\nwhen syscall latency > 200ms\n`;
const files = {};
for (const action of ["stacks", "freeze"]) {
  const out = compileSource(RULE, { fileName: "bench.qt", hostBackend: "ftrace", hostAction: action }).outputs;
  const path = join(repoRoot, `.cache/bench/ftrace-${action}.sh`);
  writeFileSync(path, out.host);
  files[`lib/qtrip/${action}.sh`] = path;
}

const CONDITIONS = {
  none: { what: "nothing armed (the floor)", arm: [], disarm: [] },
  trigger: { what: "trigger alone (stacks: kvm_pio of the VMM, stacktrace + traceoff)", script: "stacks" },
  freeze: { what: "qtrip's recorder (freeze)", script: "freeze" },
  hand: {
    what: "by hand: an instance with every kvm and sched event, no filter",
    arm: [
      "H=/sys/kernel/debug/tracing/instances/bench-hand",
      "mkdir $H && echo 4096 > $H/buffer_size_kb",
      "echo 1 > $H/events/kvm/enable; echo 1 > $H/events/sched/enable",
      'say "hand armed: $(cat $H/buffer_total_size_kb) KiB in all"',
    ],
    disarm: ["echo 0 > $H/tracing_on; echo 0 > $H/events/enable; rmdir $H"],
  },
};

// kvmguest's outbn loops at most 0xffff times: the storm is several loops.
const CHUNK = 0xffff;
const storm = Array.from({ length: Math.ceil(exits / CHUNK) }, (_, i) => `outbn:0x3fe:0x00,${Math.min(CHUNK, exits - i * CHUNK)}`).join(" ");
const scenario = [];
for (let r = 1; r <= rounds; r++) {
  for (const [name, c] of Object.entries(CONDITIONS)) {
    const label = `${name}${r}`;
    scenario.push(`step ${label}`, `vmm ${label} --quiet ${storm} outb:0x3ff:0x1f`);
    if (c.script) {
      scenario.push(
        `mkdir -p /tmp/cap-${label}`,
        `sh /lib/qtrip/${c.script}.sh -x $VMM --capture-dir /tmp/cap-${label} > /tmp/${label}.out 2>&1 & s=$!`,
        `for i in $(seq 300); do grep -q 'host script armed' /tmp/${label}.out && break; sleep 0.1; done`,
      );
    } else scenario.push(...c.arm);
    scenario.push('say "go"', `go ${label}`, "wait $VMM", 'say "vmm done"');
    if (c.script) scenario.push("finish $s 30", `report script < /tmp/${label}.out`);
    else scenario.push(...c.disarm);
  }
}

const boot = await bootHost({ name: "bench-ftrace", files, scenario: scenario.join("\n"), timeoutMs: 1_800_000 });
const rows = [];
for (let r = 1; r <= rounds; r++) {
  for (const name of Object.keys(CONDITIONS)) {
    const log = boot.step(`${name}${r}`);
    const at = (re) => log.find((rec) => re.test(rec.text))?.t;
    const start = at(/^@@ go$/);
    const end = at(/^@@ vmm done$/);
    const armed = matching(log, /host script armed: |^@@ hand armed: /)[0] ?? "";
    const memory = /\((\d+) KiB in all\)|: (\d+) KiB in all/.exec(armed);
    const trip = matching(log, /TRIP case BENCH: /)[0] ?? "";
    // The VMM ran its storm to the end (--quiet: only its last line, the hlt after the channel write).
    if (!log.some((rec) => /kvmguest \S+ pid \d+: KVM_RUN returned #\d+ exit hlt/.test(rec.text))) throw new Error(`${name}${r}: the VMM did not run to its end:\n${log.map((x) => x.text).join("\n")}`);
    rows.push({
      name,
      round: r,
      seconds: start !== undefined && end !== undefined ? end - start : undefined,
      memoryKb: memory ? Number(memory[1] ?? memory[2]) : undefined,
      stopUs: /stopped (\d+) us later/.exec(trip)?.[1],
    });
  }
}

console.log("each run: condition, round, s");
for (const r of rows) console.log(`  ${r.name}\t${r.round}\t${r.seconds?.toFixed(2) ?? "-"}`);
const med = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
};
const floor = med(rows.filter((r) => r.name === "none").map((r) => r.seconds));
console.log(`emulated 6.1 host (QEMU TCG, nested SVM): ${exits} port-write exits to the VMM's user space, then the channel write; ${rounds} rounds; median`);
console.log(["condition", "s", "exits/s", "ratio to floor", "ring buffer KiB in all", "trip->traceoff us (trace clock)"].join("\t"));
for (const [name, c] of Object.entries(CONDITIONS)) {
  const mine = rows.filter((r) => r.name === name);
  const s = med(mine.map((r) => r.seconds));
  const stop = mine.map((r) => r.stopUs).filter(Boolean).map(Number);
  console.log(
    [
      c.what,
      s?.toFixed(2) ?? "-",
      s ? Math.round(exits / s) : "-",
      s && floor ? (floor / s).toFixed(2) : "-",
      med(mine.map((r) => r.memoryKb)) ?? "-",
      stop.length ? `${med(stop)} (${stop.join(", ")})` : "-",
    ].join("\t"),
  );
}
