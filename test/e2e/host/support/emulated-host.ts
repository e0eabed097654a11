// An emulated hypervisor for the host script: Debian's test kernel booted under
// QEMU TCG with nested AMD SVM (-cpu max; TCG has no VMX), kvm-amd loaded, and
// our own small KVM user (programs/kvmguest.c) as the VMM. Host scripts compiled
// by qtrip run there as modules under staprun; nothing is ever loaded into the
// kernel of the machine running the tests.
//
// Every piece of evidence goes through the emulated host's kernel log (the
// scenario shell writes its findings to /dev/kmsg), so one console, stamped by
// one clock, tells the whole story — and a kdump's vmcore-dmesg repeats it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST_STAP_OPTIONS, type HostAction, type HostProbe } from "../../../../src/codegen/stap/index.js";
import { repoRoot } from "../../../support/stap.js";
import { buildForTarget, type Target } from "../../../support/targets.js";
import { compileRule, stapModule } from "../../support/compile.js";
import { cpioArchive, directoryEntries, fileEntry, textEntry, type CpioEntry } from "../../support/cpio.js";
import type { GuestMachine } from "../../guest/harness.js";
import { kernelModules, TEST_KERNEL } from "../../support/kernel.js";
import { withLibraries } from "../../support/libraries.js";
import { runQemu } from "../../support/qemu.js";

/** kexec-tools and the Xen libraries its kexec links, unpacked by .ci/install (never installed). */
const debDir = join(repoRoot, ".cache/debs");

const work = mkdtempSync(join(tmpdir(), "qtrip-e2e-host-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** Shell functions for scenario scripts (sourced by /init before the scenario). */
const shellLibrary = String.raw`
# say TEXT: one kernel log record, on the emulated host's console and in any dump.
say() { echo "@@ $*" > /dev/kmsg; }
# step NAME: starts a named section of the log (see HostBoot.step).
STEP_LINE=1
step() { say "step $*"; STEP_LINE=$(dmesg | wc -l); }
# report TAG < FILE: each line of FILE as a record "@@ TAG: line".
report() { while IFS= read -r line; do echo "@@ $1: $line" > /dev/kmsg; done; }
armed_count() { dmesg | grep -c 'qtrip: host probe armed' || true; }
# arm [STAPRUN OPTIONS] MODULE: runs staprun in the background until disarm; returns once
# the module's begin probe has run (staprun -L would detach from the output channel).
arm() {
  before=$(armed_count)
  staprun "$@" > /tmp/staprun.out 2>&1 &
  STAPRUN=$!
  for i in $(seq 300); do
    [ "$(armed_count)" -gt "$before" ] && return 0
    kill -0 $STAPRUN 2>/dev/null || break
    sleep 0.1
  done
  say "arm failed"; report staprun < /tmp/staprun.out; return 1
}
disarm() { kill $STAPRUN; wait $STAPRUN; report staprun < /tmp/staprun.out; }
# wait_log PATTERN SECONDS: waits until the kernel log has a line matching PATTERN (grep -E) since the step began;
# says "seen: PATTERN" or "not seen: PATTERN".
wait_log() {
  for i in $(seq $(($2 * 10))); do
    dmesg | tail -n +$STEP_LINE | grep -qE "$1" && { say "seen: $1"; return 0; }
    sleep 0.1
  done
  say "not seen: $1"; return 1
}
# refused NAME [STAPRUN OPTIONS] MODULE: runs staprun, which must stop by itself within 15 s; reports its exit and output.
refused() {
  name=$1; shift
  staprun "$@" > /tmp/$name.out 2>&1 &
  pid=$!
  finish $pid 15 || { kill $pid; wait $pid; }
  report staprun < /tmp/$name.out
}
# vmm LABEL [KVMGUEST OPTIONS] OPS: starts kvmguest in the background, set up and waiting for /tmp/go-LABEL; VMM is its pid.
# With VMM_CPU=N set, kvmguest and its vCPU threads run on host CPU N only.
vmm() {
  label=$1; shift
  rm -f /tmp/go-$label
  ${"$"}{VMM_CPU:+taskset -c $VMM_CPU} kvmguest --label $label --wait-for /tmp/go-$label "$@" > /tmp/vmm-$label.out &
  VMM=$!
  for i in $(seq 100); do grep -q ready /tmp/vmm-$label.out 2>/dev/null && break; sleep 0.1; done
  say "vmm $label pid $VMM threads $(ls /proc/$VMM/task | tr '\n' ' ')"
}
go() { touch /tmp/go-$1; }
# finish PID SECONDS: waits for a background PID to exit and says "exited rc=N", or says
# "still running after SECONDS s" (and leaves it running: the caller decides).
finish() {
  i=0
  while kill -0 $1 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 $1 2>/dev/null; then say "still running after $2 s"; return 1; fi
  wait $1; say "exited rc=$?"
}
# kprobes: the kernel's own list of registered kprobes, which is what a probe point needs.
kprobes() { report kprobes < /sys/kernel/debug/kprobes/list; }
# load_crash_kernel: kexec -p the same kernel with the capture initramfs (/boot/capture.cpio).
load_crash_kernel() {
  kexec -p /boot/vmlinuz --initrd=/boot/capture.cpio \
    --append="console=ttyS0 printk.devkmsg=on nr_cpus=1 reset_devices irqpoll panic=1" > /tmp/kexec.out 2>&1
  say "kexec -p rc=$? kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
  report kexec < /tmp/kexec.out
}
`;

/** The emulated host's init: loads the KVM modules (`modules`, in load order; unless `kvmLater`: then the scenario calls load_kvm), then runs the scenario. */
function hostInit(modules: string[], kvmLater: boolean): string {
  return String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug
. /lib/qtrip.sh
load_kvm() { say "loading kvm"; for m in ${modules.join(" ")}; do insmod $m || say "insmod $m failed"; done; say "kvm loaded: /dev/kvm $([ -c /dev/kvm ] && echo present || echo missing)"; }
unload_kvm() { rmmod kvm_amd kvm; say "kvm unloaded: $(grep -c '^kvm' /proc/modules) kvm modules left"; }
${kvmLater ? "" : "load_kvm;"} say "host up: /dev/kvm $([ -c /dev/kvm ] && echo present || echo missing)"
. /scenario.sh
say "scenario finished"
poweroff -f
`;
}

// The capture kernel's init: the crashed kernel's log, read from the dump.
const captureInit = String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
. /lib/qtrip.sh
say "capture kernel up: /proc/vmcore $([ -e /proc/vmcore ] && echo present || echo missing)"
vmcore-dmesg /proc/vmcore > /tmp/dmesg.txt 2>&1
say "vmcore-dmesg rc=$?"
report dump < /tmp/dmesg.txt
poweroff -f
`;

/** Builds programs/kvmguest.c static (the emulated host has no libc of its own for it). */
function buildKvmGuest(): string {
  const out = join(work, "kvmguest");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-pthread", "-o", out, join(repoRoot, "test/e2e/host/programs/kvmguest.c")]);
  return out;
}

/** Unpacks the kexec-tools and Xen library packages that .ci/install downloaded. */
function unpackKexecTools(): string {
  const debs = existsSync(debDir) ? readdirSync(debDir).filter((f) => f.endsWith(".deb")) : [];
  if (!debs.some((f) => f.startsWith("kexec-tools_"))) throw new Error(`no kexec-tools package in ${debDir}: run bash .ci/install`);
  const root = join(work, "kexec-tools");
  for (const deb of debs) execFileSync("dpkg", ["-x", join(debDir, deb), root]);
  return root;
}

/** The emulated host's kernel and the system whose staprun loads host modules: by default this machine's. */
export type HostMachine = GuestMachine;
const THIS_MACHINE: HostMachine = { kernel: TEST_KERNEL, staprunRoot: "/" };

/**
 * staprun and stapio of the machine's system, and kexec and vmcore-dmesg (this
 * machine's Debian 12 packages), each with its own system's libraries.
 */
function hostPrograms(machine: HostMachine, kexecRoot: string): CpioEntry[] {
  const stap = [
    { file: "/usr/bin/staprun", at: "usr/bin/staprun" },
    { file: "/usr/lib/systemtap/stapio", at: "usr/lib/systemtap/stapio" },
  ];
  const kexec = [
    { file: join(kexecRoot, "sbin/kexec"), at: "sbin/kexec" },
    { file: join(kexecRoot, "sbin/vmcore-dmesg"), at: "sbin/vmcore-dmesg" },
  ];
  const libraryPath = join(kexecRoot, "usr/lib/x86_64-linux-gnu");
  if (machine.staprunRoot === "/") return withLibraries([...stap, ...kexec], libraryPath);
  // Another system's staprun: kexec and its libraries (this machine's) go aside, run by their own loader.
  const aside = withLibraries(kexec, libraryPath).map((e) => ({ ...e, path: `opt/kexec/${e.path}` }));
  const wrappers = kexec.map(({ at }) =>
    textEntry(at, `#!/bin/busybox sh\nexec /opt/kexec/lib64/ld-linux-x86-64.so.2 --library-path /opt/kexec/lib/x86_64-linux-gnu /opt/kexec/${at} "$@"\n`, 0o755),
  );
  return [...withLibraries(stap, undefined, machine.staprunRoot), ...aside, ...wrappers];
}

interface BaseArchive {
  archive: Buffer;
  /** The KVM modules' paths in the initramfs, in load order. */
  kvmLoadOrder: string[];
}
const baseArchives = new Map<string, BaseArchive>();

/**
 * The initramfs every boot of a machine shares: busybox, staprun and stapio, the KVM
 * modules, kvmguest, kexec and vmcore-dmesg, the kernel image and the capture initramfs
 * for kexec -p. Scenario files are appended as a second cpio archive per boot.
 */
function hostArchive(machine: HostMachine): BaseArchive {
  const key = `${machine.kernel.image} ${machine.staprunRoot}`;
  const made = baseArchives.get(key);
  if (made) return made;
  const kexecRoot = unpackKexecTools();
  const capture = cpioArchive([
    fileEntry("bin/busybox", "/usr/bin/busybox", 0o755),
    ...withLibraries([{ file: join(kexecRoot, "sbin/vmcore-dmesg"), at: "sbin/vmcore-dmesg" }]),
    textEntry("lib/qtrip.sh", shellLibrary),
    textEntry("init", captureInit, 0o755),
    ...directoryEntries(["proc", "sys", "dev", "tmp"]),
  ]);
  // kvm-amd needs kvm (which needs irqbypass) and ccp.
  const kvm = kernelModules(["kvm-amd"], machine.kernel);
  const archive = cpioArchive([
    fileEntry("bin/busybox", "/usr/bin/busybox", 0o755),
    ...hostPrograms(machine, kexecRoot),
    fileEntry("bin/kvmguest", buildKvmGuest(), 0o755),
    ...kvm.entries,
    fileEntry("boot/vmlinuz", machine.kernel.image),
    { path: "boot/capture.cpio", mode: 0o644, data: capture },
    textEntry("lib/qtrip.sh", shellLibrary),
    ...directoryEntries(["proc", "sys", "dev", "tmp"]),
  ]);
  baseArchives.set(key, { archive, kvmLoadOrder: kvm.load });
  return baseArchives.get(key)!;
}

/** The probe points in the kernel (kvm.ko); the QEMU one has its own test (qemu-probe.test.ts). */
export const KERNEL_PROBES = ["kvm_fast_pio", "kvm_pio"] as const satisfies readonly HostProbe[];
export type KernelProbe = (typeof KERNEL_PROBES)[number];

/** The rule of every host test: of it, the host script uses only its case and channel. */
const HOST_RULE = `case "E2E-HOST"\nwhen syscall latency > 10s\n`;

/** Builds the host script qtrip compiles for the test rule, as a module named `name` (with `target`: by that suite's own stap). */
export async function hostModule(
  name: string,
  opts: { action: HostAction; probe: HostProbe; anyGuest?: boolean; edit?: (script: string) => string; target?: Target },
): Promise<string> {
  const { host } = compileRule({ source: HOST_RULE, hostAction: opts.action, hostProbe: opts.probe, anyGuest: opts.anyGuest ?? false });
  const script = opts.edit ? opts.edit(host) : host;
  if (!opts.target) return stapModule(script, { options: HOST_STAP_OPTIONS, name });
  // An edited script is a control: built without the command-line fixes too, so the edit alone decides.
  const built = await buildForTarget(opts.target, script, name, { uprobeLookupOptions: !opts.edit });
  if (!built.module) throw new Error(`${opts.target.suite}'s stap -p4 failed for ${name}:\n${built.stderr}`);
  return built.module;
}

export interface LogRecord {
  /** Seconds on the kernel's log clock. */
  t: number;
  text: string;
}

export interface HostBoot {
  /** The whole serial console. */
  console: string;
  /** Wall-clock milliseconds (Date.now()) at which each console line arrived from QEMU. */
  arrivals: { ms: number; line: string }[];
  /** The emulated host's kernel log, as its console printed it. */
  host: LogRecord[];
  /** The capture kernel's log, if a crash kexec'd one. */
  capture: LogRecord[];
  /** The crashed kernel's log as vmcore-dmesg read it from /proc/vmcore in the capture kernel. */
  dump: LogRecord[];
  /** Records of the host log from `step NAME` to the next step (throws if there is no such step). */
  step(name: string): LogRecord[];
}

function records(lines: string[]): LogRecord[] {
  return lines.flatMap((line) => {
    const m = /^\[\s*(\d+\.\d+)\] (.*)$/.exec(line);
    return m ? [{ t: Number(m[1]), text: m[2]! }] : [];
  });
}

export function parseConsole(console: string, arrivals: HostBoot["arrivals"] = []): HostBoot {
  const lines = console.replace(/\r/g, "").split("\n");
  // The capture kernel's own boot starts a second "Linux version" banner (a nested guest's console
  // copied into the log, "@@ l2: [...] Linux version", is not one).
  const boots = lines.flatMap((line, i) => (/\] Linux version /.test(line) && !line.includes("@@ ") ? [i] : []));
  const split = boots[1] ?? lines.length;
  const host = records(lines.slice(0, split));
  const capture = records(lines.slice(split));
  const dump = capture.flatMap((r) => (r.text.startsWith("@@ dump: ") ? records([r.text.slice(9)]) : []));
  return {
    console,
    arrivals,
    host,
    capture,
    dump,
    step(name) {
      const records = section(host, name);
      if (!records) throw new Error(`no step '${name}' in the emulated host's log:\n${console.slice(-4000)}`);
      return records;
    },
  };
}

/** The records of a log (the host's, or the dump) from `step NAME` to the next step; undefined if none. */
export function section(log: LogRecord[], name: string): LogRecord[] | undefined {
  const start = log.findIndex((r) => r.text === `@@ step ${name}`);
  if (start < 0) return undefined;
  const end = log.findIndex((r, i) => i > start && r.text.startsWith("@@ step "));
  return log.slice(start + 1, end < 0 ? undefined : end);
}

export interface BootOptions {
  /** Names the boot; with QTRIP_E2E_CONSOLES=DIR its console is kept as DIR/NAME.log. */
  name: string;
  /** Shell run by /init after kvm-amd is loaded (functions: shellLibrary). */
  scenario: string;
  /** Files to add: path in the emulated host → path here (e.g. host modules). */
  files?: Record<string, string>;
  /** Further archive entries (programs with their libraries). */
  entries?: CpioEntry[];
  /** The scenario loads kvm itself (shell function load_kvm); by default /init loads it first. */
  kvmLater?: boolean;
  /** The emulated host's CPUs (default 1). */
  smp?: number;
  /** More kernel command-line parameters (e.g. lockdown=integrity). */
  cmdline?: string[];
  /** crashkernel= reservation, for kdump scenarios (128M is the least that worked). */
  crashkernel?: string;
  /** Another kernel, and the system whose staprun loads the modules (a build target's: see test/e2e/support/machine.ts). */
  machine?: HostMachine;
  /** The emulated host's memory, MiB (default 1024, 1280 with crashkernel). */
  memoryMb?: number;
  /** QEMU -drive values (e.g. a disk for the dump). */
  drives?: string[];
  timeoutMs?: number;
}

/**
 * Boots the emulated hypervisor once and returns its console, parsed. The boot
 * ends when the scenario powers off, a crash reboots it (-no-reboot turns the
 * reboot into an exit), or the timeout kills QEMU.
 */
export async function bootHost(opts: BootOptions): Promise<HostBoot> {
  const machine = opts.machine ?? THIS_MACHINE;
  const base = hostArchive(machine);
  const own: CpioEntry[] = [
    textEntry("scenario.sh", opts.scenario, 0o755),
    textEntry("init", hostInit(base.kvmLoadOrder, opts.kvmLater ?? false), 0o755),
  ];
  for (const [at, from] of Object.entries(opts.files ?? {})) own.push(fileEntry(at, from));
  own.push(...(opts.entries ?? []));
  const append = [
    "console=ttyS0",
    "printk.devkmsg=on", // no rate limit on /dev/kmsg: every record of the scenario is kept
    "panic=1", // with -no-reboot, a panic without kdump ends QEMU
    ...(opts.crashkernel ? [`crashkernel=${opts.crashkernel}`] : []),
    ...(opts.cmdline ?? []),
  ].join(" ");
  const run = await runQemu({
    dir: mkdtempSync(join(work, "boot-")),
    kernelImage: machine.kernel.image,
    initramfs: [base.archive, cpioArchive(own)],
    append,
    accel: "tcg",
    cpu: "max",
    memoryMb: opts.memoryMb ?? (opts.crashkernel ? 1280 : 1024),
    smp: opts.smp ?? 1,
    ...(opts.drives ? { drives: opts.drives } : {}),
    timeoutMs: opts.timeoutMs ?? 240_000,
  });
  const console = run.console + run.stderr + (run.timedOut ? "\n[qtrip test] QEMU killed: timeout\n" : "");
  const keep = process.env.QTRIP_E2E_CONSOLES;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, `${opts.name}.log`), console);
  }
  return parseConsole(console, run.arrivals);
}

/** The texts of records matching a pattern. */
export function matching(log: LogRecord[], pattern: RegExp): string[] {
  return log.filter((r) => pattern.test(r.text)).map((r) => r.text);
}

/** One KVM_RUN call of kvmguest, the emulated host's VMM. */
export interface KvmRun {
  /** KVM_RUN number, from 1. */
  n: number;
  /** When kvmguest entered KVM_RUN (kernel log clock). */
  enter: number;
  /** When KVM_RUN returned to kvmguest, and why ("exit io out port 0x3ff size 1 count 1 data 1f"); absent if it never did. */
  returned?: { t: number; exit: string };
}

/** The KVM_RUN calls of the kvmguest run labelled `label`, from its /dev/kmsg lines. */
export function kvmRuns(log: LogRecord[], label: string): KvmRun[] {
  const runs: KvmRun[] = [];
  for (const r of log) {
    const m = /^kvmguest (\S+) pid \d+: KVM_RUN (enter|returned) #(\d+)(?: (.*))?$/.exec(r.text);
    if (!m || m[1] !== label) continue;
    const n = Number(m[3]);
    if (m[2] === "enter") runs.push({ n, enter: r.t });
    else runs.find((run) => run.n === n)!.returned = { t: r.t, exit: m[4] ?? "" };
  }
  return runs;
}

/** The qtrip banner's pattern (printed by the host module's action). */
export const TRIP = /^qtrip: TRIP case 'E2E-HOST': guest vCPU thread 'kvmguest' \(tid \d+\) of VMM 'kvmguest' \(pid \d+\) wrote 0x1f to port 0x3ff; /;
