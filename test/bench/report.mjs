#!/usr/bin/env node
// Benchmark, not a test: `qtrip report` on a 64 MB ftrace text (the size of a large
// freeze buffer), against the floor of reading the same file at all: `wc -l` and
// `grep -c kvm_exit`. trace-cmd is no fair yardstick here: `trace-cmd report` reads
// only its binary trace.dat and cannot take the kernel's text, which is what the
// freeze writes. Run: node test/bench/report.mjs (after npm run build); SIZE_MB, RUNS.
import { spawnSync } from "node:child_process";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const qtrip = join(root, "dist/qtrip");
const dir = mkdtempSync(join(tmpdir(), "qtrip-bench-report-"));
const sizeMb = Number(process.env.SIZE_MB ?? 64);
const runs = Number(process.env.RUNS ?? 3);

/** A 6.1-layout trace: two vCPU threads with port I/O exits, a preempting kworker, interrupts. */
function trace() {
  const lines = ["# tracer: nop", "#", "# entries-in-buffer/entries-written: 0/0   #P:2", "#"];
  let bytes = 0;
  let t = 1000_000_000; // µs
  const stamp = () => `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, "0")}`;
  const add = (comm, tid, cpu, text) => {
    const line = `${comm.padStart(16)}-${String(tid).padEnd(7)} [${String(cpu).padStart(3, "0")}] d..2. ${stamp().padStart(12)}: ${text}`;
    lines.push(line);
    bytes += line.length + 1;
    t += 7;
  };
  for (let i = 0; bytes < sizeMb * 1024 * 1024; i++) {
    for (const [v, tid, cpu] of [[0, 4242, 1], [1, 4243, 2]]) {
      const comm = `CPU ${v}/KVM`;
      add(comm, tid, cpu, `kvm_entry: vcpu ${v}, rip 0x${(0x1000 + i).toString(16)}`);
      add(comm, tid, cpu, `kvm_exit: vcpu ${v} reason EXIT_IOIO rip 0x1004 info1 0x0000000003ff0010 info2 0x0000000000001005 intr_info 0x00000000 error_code 0x00000000`);
      add(comm, tid, cpu, "kvm_pio: pio_write at 0x80 size 1 count 1 val 0x0 ");
      add(comm, tid, cpu, "kvm_userspace_exit: reason KVM_EXIT_IO (2)");
      if (i % 50 === 0) {
        add(comm, tid, cpu, `sched_switch: prev_comm=${comm} prev_pid=${tid} prev_prio=120 prev_state=R+ ==> next_comm=kworker/${cpu}:1 next_pid=${90 + cpu} next_prio=120`);
        add("<idle>", 0, cpu, `irq_handler_entry: irq=11 name=virtio0`);
        add("<idle>", 0, cpu, `irq_handler_exit: irq=11 ret=handled`);
        add(`kworker/${cpu}:1`, 90 + cpu, cpu, `sched_switch: prev_comm=kworker/${cpu}:1 prev_pid=${90 + cpu} prev_prio=120 prev_state=I ==> next_comm=${comm} next_pid=${tid} next_prio=120`);
      }
    }
  }
  return { text: `${lines.join("\n")}\n`, last: stamp(), lines: lines.length };
}

const { text, last, lines } = trace();
const file = join(dir, "trace");
writeFileSync(file, text);
const mb = statSync(file).size / 1024 / 1024;

/** Median wall and CPU (user + system, from /usr/bin/time) seconds of a command: a shared machine's wall time says little alone. */
function median(args) {
  const runsOf = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync("/usr/bin/time", ["-f", "@cpu %U %S", ...args], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    if (r.status !== 0 && !(args[0] === "grep" && r.status === 1)) throw new Error(`${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    const [, user, sys] = /@cpu (\S+) (\S+)/.exec(r.stderr);
    runsOf.push({ wall, cpu: Number(user) + Number(sys) });
  }
  const mid = (key) => runsOf.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { wall: mid("wall"), cpu: mid("cpu") };
}

const window = process.env.WINDOW ?? "2s";
const rows = [
  ["wc -l", ["wc", "-l", file]],
  ["grep -c kvm_exit", ["grep", "-c", "kvm_exit", file]],
  [`qtrip report --window ${window} (text)`, [qtrip, "report", file, "--trip-time", last, "--window", window]],
  [`qtrip report --window ${window} --format svg`, [qtrip, "report", file, "--trip-time", last, "--window", window, "--format", "svg"]],
];
console.log(`${mb.toFixed(1)} MB, ${lines} lines, median of ${runs} runs`);
const floor = median(rows[0][1]);
for (const [name, args] of rows) {
  const { wall, cpu } = name === "wc -l" ? floor : median(args);
  console.log(`${name.padEnd(44)} ${wall.toFixed(2).padStart(7)} s wall ${cpu.toFixed(2).padStart(7)} s CPU  ${(wall / floor.wall).toFixed(0).padStart(5)}× wc -l`);
}
