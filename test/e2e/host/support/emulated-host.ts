// An emulated hypervisor for the host script: Debian's test kernel booted under
// QEMU TCG with nested AMD SVM (-cpu max; TCG has no VMX), kvm-amd loaded, and
// our own small KVM user (programs/kvmguest.c) as the VMM. Host modules built
// from `qtrip compile` run there under staprun; nothing is ever loaded into the
// kernel of the machine running the tests.
//
// Every piece of evidence goes through the emulated host's kernel log (the
// scenario shell writes its findings to /dev/kmsg), so one console, stamped by
// one clock, tells the whole story — and a kdump's vmcore-dmesg repeats it.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { HOST_STAP_OPTIONS, type HostAction, type HostProbe } from "../../../../src/codegen/stap/index.js";
import { kernelRelease, repoRoot, splitOptions, stap } from "../../../support/stap.js";

const kernelImage = `/boot/vmlinuz-${kernelRelease}`;
const moduleDir = `/lib/modules/${kernelRelease}/kernel`;
/** kvm-amd needs kvm (needs irqbypass) and ccp; the initramfs has no modules.dep, so order matters. */
const kvmModules = ["virt/lib/irqbypass", "arch/x86/kvm/kvm", "drivers/crypto/ccp/ccp", "arch/x86/kvm/kvm-amd"];
/** kexec-tools and the Xen libraries its kexec links, unpacked by .ci/install (never installed). */
export const debDir = join(repoRoot, ".cache/debs");

const work = mkdtempSync(join(tmpdir(), "qtrip-e2e-host-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, cwd?: string): string {
  return execFileSync("bash", ["-euo", "pipefail", "-c", cmd], { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
}

/** Copies a dynamically linked program and the libraries ldd names into a root tree. */
function copyProgram(root: string, program: string, at: string, env: NodeJS.ProcessEnv = {}): void {
  install(program, join(root, at));
  const libs = execFileSync("ldd", [program], { encoding: "utf8", env: { ...process.env, ...env } });
  for (const [, lib] of libs.matchAll(/(\/\S+) \(0x/g)) {
    // Every library goes to the standard directories, where the loader looks anyway.
    install(lib!, join(root, lib!.startsWith("/lib64/") ? "lib64" : "lib/x86_64-linux-gnu", basename(lib!)));
  }
}

function install(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** Shell functions for scenario scripts (sourced by /init before the scenario). */
const shellLibrary = String.raw`
# say TEXT: one kernel log record, on the emulated host's console and in any dump.
say() { echo "@@ $*" > /dev/kmsg; }
# step NAME: starts a named section of the log (see HostBoot.step).
step() { say "step $*"; }
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

const hostInit = String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug
. /lib/qtrip.sh
for m in ${kvmModules.map((m) => basename(m)).join(" ")}; do insmod /lib/kvm/$m.ko || say "insmod $m failed"; done
say "host up: /dev/kvm $([ -c /dev/kvm ] && echo present || echo missing)"
. /scenario.sh
say "scenario finished"
poweroff -f
`;

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

function cpio(root: string, out: string): void {
  sh(`find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc > ${JSON.stringify(out)}`, root);
}

function writeExecutable(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o755 });
}

/** Builds programs/kvmguest.c static (the emulated host has no libc of its own for it). */
function buildKvmGuest(): string {
  const out = join(work, "kvmguest");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", out, join(repoRoot, "test/e2e/host/programs/kvmguest.c")]);
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

let baseImage: string | undefined;

/**
 * The initramfs every boot shares: busybox, staprun and stapio, the KVM modules,
 * kvmguest, kexec and vmcore-dmesg, the kernel image and the capture initramfs
 * for kexec -p. Scenario files are appended as a second cpio archive per boot.
 */
export function hostImage(): string {
  if (baseImage) return baseImage;
  const kexecRoot = unpackKexecTools();
  const withXen = { LD_LIBRARY_PATH: join(kexecRoot, "usr/lib/x86_64-linux-gnu") };

  const capture = join(work, "capture-root");
  install("/usr/bin/busybox", join(capture, "bin/busybox"));
  copyProgram(capture, join(kexecRoot, "sbin/vmcore-dmesg"), "sbin/vmcore-dmesg");
  writeFileSync(join(capture, "lib/qtrip.sh"), shellLibrary);
  writeExecutable(join(capture, "init"), captureInit);
  for (const d of ["proc", "sys", "dev", "tmp"]) mkdirSync(join(capture, d));

  const host = join(work, "host-root");
  install("/usr/bin/busybox", join(host, "bin/busybox"));
  copyProgram(host, "/usr/bin/staprun", "usr/bin/staprun");
  copyProgram(host, "/usr/lib/systemtap/stapio", "usr/lib/systemtap/stapio");
  copyProgram(host, join(kexecRoot, "sbin/kexec"), "sbin/kexec", withXen);
  copyProgram(host, join(kexecRoot, "sbin/vmcore-dmesg"), "sbin/vmcore-dmesg");
  install(buildKvmGuest(), join(host, "bin/kvmguest"));
  for (const m of kvmModules) install(join(moduleDir, `${m}.ko`), join(host, "lib/kvm", `${basename(m)}.ko`));
  install(kernelImage, join(host, "boot/vmlinuz"));
  cpio(capture, join(host, "boot/capture.cpio"));
  writeFileSync(join(host, "lib/qtrip.sh"), shellLibrary);
  writeExecutable(join(host, "init"), hostInit);
  for (const d of ["proc", "sys", "dev", "tmp"]) mkdirSync(join(host, d));
  baseImage = join(work, "host.cpio");
  cpio(host, baseImage);
  return baseImage;
}

/** The qtrip under test: the build (npm run build), or another one's bundle (QTRIP_BIN=path/to/qtrip.js). */
const qtripBin = process.env.QTRIP_BIN ?? join(repoRoot, "dist/qtrip.js");

/** Builds the host script `qtrip compile` writes for a test rule, as a module named `name`. */
export async function hostModule(
  name: string,
  opts: { action: HostAction; probe: HostProbe; edit?: (script: string) => string },
): Promise<string> {
  const dir = mkdtempSync(join(work, `${name}-`));
  const rule = join(dir, "rule.qt");
  writeFileSync(rule, `case "E2E-HOST"\nwhen syscall latency > 10s\n`);
  execFileSync(process.execPath, [
    qtripBin, "compile", rule, "-o", dir,
    "--host-action", opts.action, "--host-probe", opts.probe,
  ]);
  const script = readFileSync(join(dir, "rule.host.stp"), "utf8");
  const built = await stap(opts.edit ? opts.edit(script) : script, {
    options: splitOptions(HOST_STAP_OPTIONS),
    moduleName: name,
    dir,
  });
  if (!built.module) throw new Error(`stap -p4 failed for ${name}:\n${built.stderr}`);
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
  // The capture kernel's own boot starts a second "Linux version" banner.
  const boots = lines.flatMap((line, i) => (/\] Linux version /.test(line) ? [i] : []));
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
  /** crashkernel= reservation, for kdump scenarios (128M is the least that worked). */
  crashkernel?: string;
  timeoutMs?: number;
}

/**
 * Boots the emulated hypervisor once and returns its console, parsed. The boot
 * ends when the scenario powers off, a crash reboots it (-no-reboot turns the
 * reboot into an exit), or the timeout kills QEMU.
 */
export async function bootHost(opts: BootOptions): Promise<HostBoot> {
  const dir = mkdtempSync(join(work, "boot-"));
  const extra = join(dir, "extra");
  writeExecutable(join(extra, "scenario.sh"), opts.scenario);
  for (const [at, from] of Object.entries(opts.files ?? {})) install(from, join(extra, at));
  cpio(extra, join(dir, "extra.cpio"));
  // The kernel unpacks concatenated cpio archives one after the other.
  const initrd = join(dir, "initrd.cpio");
  sh(`cat ${JSON.stringify(hostImage())} extra.cpio > initrd.cpio`, dir);

  const append = [
    "console=ttyS0",
    "printk.devkmsg=on", // no rate limit on /dev/kmsg: every record of the scenario is kept
    "panic=1", // with -no-reboot, a panic without kdump ends QEMU
    ...(opts.crashkernel ? [`crashkernel=${opts.crashkernel}`] : []),
  ].join(" ");
  const args = [
    "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", opts.crashkernel ? "1280" : "1024",
    "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", kernelImage, "-initrd", initrd, "-append", append,
  ];
  const arrivals: HostBoot["arrivals"] = [];
  let pending = "";
  const console = await new Promise<string>((done, fail) => {
    const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    qemu.stdout.on("data", (chunk: Buffer) => {
      const ms = Date.now();
      const lines = (pending + chunk.toString("latin1")).replace(/\r/g, "").split("\n");
      pending = lines.pop()!;
      for (const line of lines) arrivals.push({ ms, line });
      out += chunk;
    });
    qemu.stderr.on("data", (chunk) => (out += chunk));
    const timer = setTimeout(() => {
      qemu.kill("SIGKILL");
      out += "\n[qtrip test] QEMU killed: timeout\n";
    }, opts.timeoutMs ?? 240_000);
    qemu.on("error", fail);
    qemu.on("close", () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      done(out);
    });
  });
  const keep = process.env.QTRIP_E2E_CONSOLES;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, `${opts.name}.log`), console);
  }
  return parseConsole(console, arrivals);
}

/** The texts of records matching a pattern. */
export function matching(log: LogRecord[], pattern: RegExp): string[] {
  return log.filter((r) => pattern.test(r.text)).map((r) => r.text);
}

export interface GuestRun {
  /** KVM_RUN number, from 1. */
  n: number;
  /** When kvmguest entered KVM_RUN (kernel log clock). */
  enter: number;
  /** When KVM_RUN returned to kvmguest, and why ("exit io out port 0x3ff size 1 count 1 data 1f"); absent if it never did. */
  returned?: { t: number; exit: string };
}

/** The KVM_RUN calls of the kvmguest run labelled `label`, from its /dev/kmsg lines. */
export function guestRuns(log: LogRecord[], label: string): GuestRun[] {
  const runs: GuestRun[] = [];
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
