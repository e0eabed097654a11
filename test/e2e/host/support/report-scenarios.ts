// Scenarios with a known cause for `qtrip report`, run in the emulated KVM host:
// an ftrace instance set up by hand as the freeze sets it up (the report's events,
// stacktrace and traceoff on the channel write), kvmguest as the VMM on host CPU 1,
// and something done to its vCPU thread. After each trip the instance's last 1.6 s
// go to a raw disk of the host; captureDir() turns them into a capture directory
// (trace.txt and meta.json, the freeze's contract: docs/report.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { repoRoot } from "../../../support/stap.js";
import { fileEntry, type CpioEntry } from "../../support/cpio.js";
import { kernelModules, TEST_KERNEL, type BootKernel } from "../../support/kernel.js";
import { matching, type HostBoot } from "./emulated-host.js";
import { HOST_EVENTS, KVM_EVENTS } from "../../../../src/codegen/ftrace/actions.js";

/** The events the freeze records (src/codegen/ftrace/actions.ts; those a kernel lacks are skipped). */
const EVENTS = [...KVM_EVENTS, ...HOST_EVENTS];

const CHANNEL = "port == 0x3ff && val == 0x1f";

const SHELL = String.raw`
# freeze_arm NAME: an instance recording the report's events, stopped (with a stack trace) by the channel write.
freeze_arm() {
  T=/sys/kernel/debug/tracing/instances/$1
  mkdir $T
  echo 2048 > $T/buffer_size_kb
  for e in ${EVENTS.join(" ")}; do [ -e $T/events/$e/enable ] && echo 1 > $T/events/$e/enable; done
  # The trigger added last runs first: the stack trace must be taken before the buffer is turned off.
  echo 'traceoff:1 if ${CHANNEL}' > $T/events/kvm/kvm_pio/trigger
  echo 'stacktrace:1 if ${CHANNEL}' > $T/events/kvm/kvm_pio/trigger
}
# freeze_dump NAME: the instance's last 1.6 s (and the top-level buffer's records), gzip'd, into
# /tmp/dump/NAME.gz; save_dumps writes /tmp/dump to the raw disk (the serial console, some 35 KB/s
# under TCG and far less on a loaded machine, once cut a dump short).
mkdir -p /tmp/dump
save_dumps() { tar cf /dev/vda -C /tmp/dump . && sync && say "dumps saved: $(ls /tmp/dump | tr '\n' ' ')"; }
freeze_dump() {
  T=/sys/kernel/debug/tracing/instances/$1
  say "freeze $1 tracing_on $(cat $T/tracing_on)"
  echo 0 > $T/tracing_on   # without a trip, the dump's own console interrupts would feed the trace it reads
  last=$(grep -o ' [0-9]*\.[0-9]*: ' $T/trace | tail -n 1 | tr -d ' :')
  { awk -v from="$last" 'BEGIN { from -= 1.6 } { keep = 1; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { keep = (substr($i, 1, length($i) - 1) + 0 >= from); break } } keep' $T/trace
    grep -v '^#' /sys/kernel/debug/tracing/trace; } | gzip > /tmp/dump/$1.gz
  echo > /sys/kernel/debug/tracing/trace
  echo 0 > $T/events/enable
  say "freeze dumped $1"
}
export VMM_CPU=1
`;

export interface ReportCase {
  /** Guest ops (kvmguest): each ends with the channel write. */
  ops: string[];
  /** Shell run once the guest is going ($VMM is its pid). */
  during: string;
}

/** The rule's threshold in every case: the report's window is 220 ms. */
export const THRESHOLD_NS = 200e6;

export const REPORT_CASES = {
  // The guest computes for 800 ms, then trips: nothing in the way.
  control: { ops: ["spin:800", "outb:0x3ff:0x1f"], during: "" },
  // A SCHED_FIFO 50 task pinned to the vCPU thread's CPU for 1.5 s, started while the guest computes. The guest's
  // deadline passes while it cannot run; it trips when it next runs: when realtime throttling (950 ms a second)
  // first lets it, or when the hog ends. Timed so on a loaded machine too (the shell may take 0.5 s to start hog).
  starved: { ops: ["spin:800", "outb:0x3ff:0x1f"], during: "usleep 50000; hog 1 50 1500" },
  // The VMM is stopped (SIGSTOP) for 1 s while the guest computes; it trips once continued.
  stopped: { ops: ["spin:800", "outb:0x3ff:0x1f"], during: "usleep 50000; kill -STOP $VMM; usleep 1000000; kill -CONT $VMM" },
  // The guest writes port 0x80 in a loop for 300 ms: every write exits to the VMM.
  storm: { ops: ["storm:0x80:300", "outb:0x3ff:0x1f"], during: "" },
} satisfies Record<string, ReportCase>;
export type CaseName = keyof typeof REPORT_CASES;

export function reportScenario(names: CaseName[], disk: DumpDisk): string {
  const cases = names.map((name) => {
    const c: ReportCase = REPORT_CASES[name];
    return [
      `step report-${name}`,
      `freeze_arm ${name}`,
      `vmm ${name} ${c.ops.join(" ")}`,
      `say "report-meta ${name} vmm=$VMM threads=$(ls /proc/$VMM/task | tr '\\n' ' ')kernel=$(uname -r)"`,
      `go ${name}`,
      c.during,
      "finish $VMM 30",
      `freeze_dump ${name}`,
    ].join("\n");
  });
  return [disk.load, SHELL, ...cases].join("\n");
}

/** A raw disk the emulated host writes its dumps to (a tar archive: no file system), and what it needs to see it. */
export interface DumpDisk {
  file: string;
  drive: string;
  entries: CpioEntry[];
  /** Shell: loads the virtio block driver. */
  load: string;
}

export function dumpDisk(dir: string, kernel: BootKernel = TEST_KERNEL): DumpDisk {
  const file = join(dir, "dumps.raw");
  writeFileSync(file, "");
  truncateSync(file, 128 * 1024 * 1024);
  const blk = kernelModules(["virtio_pci", "virtio_blk"], kernel);
  return {
    file,
    drive: `file=${file},if=virtio,format=raw`,
    entries: blk.entries,
    load: `for m in ${blk.load.join(" ")}; do insmod $m 2> /dev/null; done; for i in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done`,
  };
}

/** The dumps the emulated host saved, unpacked into DIR (empty when it saved none). */
export function readDumps(disk: DumpDisk, dir: string): string {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("tar", ["xf", disk.file, "-C", dir], { stdio: "ignore" });
  } catch {
    // No archive: the checks say which dump is missing.
  }
  rmSync(disk.file, { force: true });
  return dir;
}

/** hog (programs/hog.c), built static, as the emulated host's /bin/hog. */
export function hogEntry(dir: string): CpioEntry {
  const out = join(dir, "hog");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", out, join(repoRoot, "test/e2e/host/programs/hog.c")]);
  return fileEntry("bin/hog", out, 0o755);
}

/** A case's trace lines as the emulated host saved them (gzip'd, on its dump disk). */
export function caseTrace(boot: HostBoot, dumps: string, name: CaseName): string[] {
  const file = join(dumps, `${name}.gz`);
  if (!existsSync(file)) throw new Error(`no dump of ${name} on the host's disk:\n${boot.console.slice(-3000)}`);
  return gunzipSync(readFileSync(file)).toString("utf8").replace(/\n$/, "").split("\n");
}

const STAMP = /\[(\d+)\]\s+(?:\S{4,5}\s+)?(\d+\.\d+): /;

/**
 * Writes NAME's capture into DIR as the freeze would: trace.txt, and meta.json whose
 * trip is the channel write's record in the tripping thread. With
 * `keepSeconds`, records older than that before the trip are left out (fixtures).
 */
export function captureDir(boot: HostBoot, dumps: string, name: CaseName, dir: string, keepSeconds?: number): string {
  const lines = caseTrace(boot, dumps, name);
  const meta = /^@@ report-meta \S+ vmm=(\d+) threads=([\d ]+?) ?kernel=(\S+)$/.exec(matching(boot.host, new RegExp(`^@@ report-meta ${name} `))[0] ?? "");
  if (!meta) throw new Error(`no report-meta line for ${name}:\n${boot.console.slice(-3000)}`);
  // The channel write's kvm_pio record (on 6.1 the stacktrace trigger writes to the top-level buffer, not the instance's).
  const trip = lines.filter((l) => / kvm_pio: pio_write at 0x3ff size 1 count 1 val 0x1f\b/.test(l)).pop();
  if (!trip) throw new Error(`no channel write in ${name}'s trace (${lines.length} lines):\n${lines.slice(-20).join("\n")}`);
  const tripTimestamp = Number(STAMP.exec(trip)![2]);
  const tripTid = Number(/-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[/.exec(trip)![1]);
  const kept =
    keepSeconds === undefined
      ? lines
      : lines.filter((l) => {
          const m = STAMP.exec(l);
          return !m || Number(m[2]) >= tripTimestamp - keepSeconds;
        });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "trace.txt"), `${kept.join("\n")}\n`);
  const tids = meta[2]!.trim().split(/\s+/).map(Number);
  const capture = {
    case: `E2E-REPORT-${name}`,
    title: `report scenario '${name}'`,
    vmmPid: Number(meta[1]),
    vcpuThreads: tids.map((tid) => ({ tid, comm: "kvmguest" })),
    hostKernel: meta[3],
    traceClock: "local",
    tripTimestamp,
    tripTid,
    thresholdNs: THRESHOLD_NS,
    channel: "port 0x3ff byte 0x1f",
    bufferKb: 2048,
    capturedAt: "emulated host",
  };
  writeFileSync(join(dir, "meta.json"), `${JSON.stringify(capture, null, 2)}\n`);
  return dir;
}

/** The rule whose host script (the ftrace backend's freeze) makes the 'freeze' capture: its threshold makes the window 220 ms. */
export const FREEZE_RULE = `case "E2E-REPORT"\ntitle "report e2e"\nwhen syscall latency > 200ms\n`;

/**
 * The 'starved' case again, captured by the real freeze (/lib/qtrip/freeze.sh, the ftrace
 * backend's host script) instead of a hand-made instance; its capture directory goes to
 * the host's dump disk as freeze.gz: meta.json, a line "@@@", then trace.txt.
 */
export const FREEZE_SCENARIO = String.raw`
step report-freeze
mkdir -p /tmp/cap
vmm freeze ${REPORT_CASES.starved.ops.join(" ")}
sh /lib/qtrip/freeze.sh -x $VMM --capture-dir /tmp/cap > /tmp/freeze.out 2>&1 & script=$!
for i in $(seq 300); do grep -q 'host script armed' /tmp/freeze.out && break; sleep 0.1; done
go freeze
${REPORT_CASES.starved.during}
finish $script 60
wait $VMM
report script < /tmp/freeze.out
{ cat /tmp/cap/*/meta.json; echo @@@; cat /tmp/cap/*/trace.txt; } | gzip > /tmp/dump/freeze.gz
say "freeze capture dumped"
`;

/** Writes the freeze's capture directory, as the emulated host's script saved it, into DIR. */
export function freezeCaptureDir(boot: HostBoot, dumps: string, dir: string): string {
  const file = join(dumps, "freeze.gz");
  const text = existsSync(file) ? gunzipSync(readFileSync(file)).toString("utf8") : "";
  const at = text.indexOf("\n@@@\n");
  if (at < 0) throw new Error(`no freeze capture on the host's disk:\n${boot.console.slice(-3000)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "meta.json"), text.slice(0, at + 1));
  writeFileSync(join(dir, "trace.txt"), text.slice(at + 5));
  return dir;
}
