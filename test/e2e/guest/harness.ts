// Real-guest end-to-end harness: compiles a rule, builds its guest module with
// the real stap for the test kernel, boots that kernel under QEMU with an
// initramfs that loads the module and runs a workload, and reads what QEMU saw.
//
// Everything is observed from QEMU's side: its trace of serial register writes
// (`serial_write`: the trip is a write of the channel byte to COM1's scratch
// register, offset 7) and of parallel port writes (`parallel_ioport_write`: the
// workload's markers), both timestamped by QEMU on the host's clock. The guest's
// own console is read only for diagnostics and for the dry run's log line.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { compileSource } from "../../../src/compile.js";
import { GUEST_STAP_OPTIONS } from "../../../src/codegen/stap/index.js";
import { renderText } from "../../../src/diagnostics/render.js";
import { kernelRelease, repoRoot, splitOptions, stap } from "../../support/stap.js";
import { cpioArchive, type CpioEntry } from "./cpio.js";

export { kernelRelease };

/** The channel's defaults (LANGUAGE.md): byte 0x1f to port 0x3ff = COM1 (0x3f8) + 7. */
export const CHANNEL_OFFSET = 0x07;
export const CHANNEL_VALUE = 0x1f;

/** Markers the init script writes to the parallel port; a workload's calls write 1, 2, 3, ... */
export const PHASE = { booted: 0xf0, armed: 0xf1, done: 0xf2 } as const;

const kernelImage = `/boot/vmlinuz-${kernelRelease}`;
const programsDir = join(repoRoot, "test/e2e/guest/programs");
/** `QTRIP_E2E_ACCEL=kvm` to try KVM; our machines' nested KVM cannot boot Debian's kernel (MECHANISM.md). */
const accel = process.env.QTRIP_E2E_ACCEL ?? "tcg";

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr || result.error}`);
  return result.stdout;
}

function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

// ---------------------------------------------------------------------------
// Rules and modules

export interface GuestRule {
  source: string;
  /** `qtrip compile --define NAME=VALUE` */
  defines?: Record<string, string>;
  dryRun?: boolean;
}

/** The guest script for a rule, through the library API; a rule with errors throws them, rendered. */
export function compileGuest(rule: GuestRule): string {
  const fileName = "rule.qt";
  const result = compileSource(rule.source, {
    fileName,
    dryRun: rule.dryRun ?? false,
    ...(rule.defines ? { defines: new Map(Object.entries(rule.defines)) } : {}),
  });
  if (!result.outputs) {
    const text = result.diagnostics.map((d) => renderText(d, { name: fileName, text: rule.source })).join("\n");
    throw new Error(`the rule does not compile:\n${text}`);
  }
  return result.outputs.guest;
}

const modules = new Map<string, Promise<string>>();

/**
 * Builds a guest script into a module for the test kernel with the options the
 * script's header gives (stap -p4; nothing is loaded here). Identical scripts
 * are built once per process.
 */
export function buildModule(script: string, options = GUEST_STAP_OPTIONS): Promise<string> {
  const hash = createHash("sha256").update(options).update(script).digest("hex").slice(0, 12);
  let module = modules.get(hash);
  if (!module) {
    module = stap(script, { options: splitOptions(options), moduleName: `qtrip_${hash}` }).then((result) => {
      if (!result.module) throw new Error(`stap -p4 failed:\n${result.stderr}`);
      return result.module;
    });
    modules.set(hash, module);
  }
  return module;
}

export function buildRuleModule(rule: GuestRule): Promise<string> {
  return buildModule(compileGuest(rule));
}

// ---------------------------------------------------------------------------
// The initramfs: a shared base archive, plus a small one per session (the
// kernel unpacks concatenated cpio archives in order).

/** The shared libraries a dynamically linked program needs, by their absolute paths. */
function sharedLibraries(program: string): string[] {
  return [...run("ldd", [program]).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** staprun execs stapio, which loads the module and, with -L, detaches once `begin` ran. */
const STAPRUN = "/usr/bin/staprun";
const STAPIO = "/usr/lib/systemtap/stapio";

/** Static workload programs from programs/*.c, built at test time. */
function buildPrograms(dir: string): CpioEntry[] {
  return ["qt-trigger"].map((name) => {
    const binary = join(dir, name);
    run("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", binary, join(programsDir, `${name}.c`)]);
    return { path: `bin/${name}`, mode: 0o755, data: readFileSync(binary) };
  });
}

/** busybox, staprun and its libraries, the workload programs: the same for every session. */
export const baseArchive = memo(async () => {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-guest-"));
  const binaries = [STAPRUN, STAPIO];
  const libraries = [...new Set(binaries.flatMap(sharedLibraries))];
  const entries: CpioEntry[] = [
    ...["bin", "dev", "proc", "sys", "run", "tmp"].map((path) => ({ path, mode: 0o755, directory: true })),
    { path: "bin/busybox", mode: 0o755, data: readFileSync("/bin/busybox") },
    ...[...binaries, ...libraries].map((file) => ({ path: file.slice(1), mode: 0o755, data: readFileSync(file) })),
    ...buildPrograms(dir),
  ];
  const file = join(dir, "base.cpio");
  writeFileSync(file, cpioArchive(entries));
  // The runs' small logs stay for a post-mortem; the archive (~10 MB) goes.
  process.once("exit", () => rmSync(file, { force: true }));
  return { dir, file };
});

/**
 * The init script: mounts, helpers, then the session's own lines. Helpers:
 *   spawn NAME STEP...   start qt-trigger with these steps, held until `run NAME`; its pid is $pid_NAME
 *   arm [NAME=VALUE]...  load $MODULE (staprun -L returns once its begin probe ran), then mark "armed"
 *   run NAME...          release the named workloads and wait for them to end
 *   mark VALUE           write a marker
 * The session ends with a "done" marker and a power-off.
 */
function initScript(session: string, module: string | undefined): string {
  return `#!/bin/busybox sh
MODULE=/${module ?? "no-module"}.ko
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mark() { /bin/qt-trigger mark:$1; }
mark ${PHASE.booted}
# qtrip's "armed" line is KERN_INFO: show it on the console too.
dmesg -n 7
spawn() {
  name=$1; shift
  mkfifo /run/$name.go
  /bin/qt-trigger wait:/run/$name.go "$@" &
  eval "pid_$name=$!"
}
arm() {
  if staprun -L $MODULE "$@"; then
    mark ${PHASE.armed}
  else
    echo "qtrip-e2e: staprun failed with status $?"
    poweroff -f
  fi
}
run() {
  for name; do echo > /run/$name.go; done
  for name; do eval "wait \\$pid_$name"; done
}
${session}
mark ${PHASE.done}
echo "qtrip-e2e: session done"
poweroff -f
`;
}

// ---------------------------------------------------------------------------
// Booting

export interface PortWrite {
  /** QEMU's timestamp, microseconds since the epoch. */
  us: number;
  addr: number;
  val: number;
}

export interface GuestRun {
  console: string;
  /** Writes to COM1's registers (addr = offset from 0x3f8), boot included. */
  serial: PortWrite[];
  /** Marker writes to the parallel port's data register, from the "booted" marker on. */
  markers: PortWrite[];
  /** When QEMU was started (host clock, µs). */
  startedUs: number;
}

export interface GuestSession {
  /** The module to load with `arm`; none for a session without a script. */
  module?: string;
  /** Lines of the init script between the helpers and the power-off. */
  session: string;
  /** vCPUs (default 1: a second one costs a host core under emulation). */
  smp?: number;
  /** Guest memory in MiB (default 512). */
  memoryMb?: number;
  /** Modules of the test kernel (e.g. "virtio_blk"), insmod-ed with their dependencies before the session. */
  kernelModules?: string[];
  /** QEMU `-drive` values: the first is /dev/vda, and so on (virtio_blk needed). */
  drives?: string[];
  /** More files for the initramfs, guest path → host file: e.g. a helper module at "/oops.ko". */
  files?: Record<string, string>;
  /** Run alongside the guest, from the host: e.g. stop its vCPU for a while. */
  control?: (guest: RunningGuest) => Promise<void>;
  timeoutMs?: number;
}

/** A guest while it runs, as `control` sees it. */
export interface RunningGuest {
  /** Resolves once the guest has written marker `value` (polls QEMU's trace log). */
  marker(value: number): Promise<void>;
  /**
   * Stops the whole QEMU process for `ms` (SIGSTOP, then SIGCONT), as a host that does not
   * schedule the vCPU thread would. Unlike the monitor's `stop`, this lets the guest's clocks
   * run on: under TCG they follow the host's while the VM runs and freeze while it is stopped.
   */
  pause(ms: number): Promise<void>;
}

/** QEMU's log backend: `PID@SECONDS.MICROS:event text`. */
const TRACE_LINE = /^\d+@(\d+)\.(\d{6}):(serial_write|parallel_ioport_write) write (?:\[\w+\] )?addr 0x([0-9a-f]+) val 0x([0-9a-f]+)$/;

function parseTrace(text: string): { serial: PortWrite[]; parallel: PortWrite[] } {
  const serial: PortWrite[] = [];
  const parallel: PortWrite[] = [];
  for (const line of text.split("\n")) {
    const m = TRACE_LINE.exec(line);
    if (!m) continue;
    const write = { us: Number(m[1]) * 1e6 + Number(m[2]), addr: parseInt(m[4]!, 16), val: parseInt(m[5]!, 16) };
    (m[3] === "serial_write" ? serial : parallel).push(write);
  }
  return { serial, parallel };
}

/** Boots the test kernel with the session's init and waits for the power-off. */
export async function runGuest(spec: GuestSession): Promise<GuestRun> {
  const base = await baseArchive();
  const dir = mkdtempSync(join(base.dir, "run-"));
  const kmods = kernelModuleEntries(spec.kernelModules ?? []);
  const session = [...kmods.lines, spec.session].join("\n");
  const own: CpioEntry[] = [{ path: "init", mode: 0o755, data: Buffer.from(initScript(session, spec.module && moduleName(spec.module))) }, ...kmods.entries];
  if (spec.module) own.push({ path: `${moduleName(spec.module)}.ko`, mode: 0o644, data: readFileSync(spec.module) });
  for (const [path, file] of Object.entries(spec.files ?? {})) own.push({ path: path.replace(/^\//, ""), mode: 0o644, data: readFileSync(file) });
  const initrd = join(dir, "initrd.cpio");
  writeFileSync(initrd, Buffer.concat([readFileSync(base.file), cpioArchive(own)]));

  const consoleFile = join(dir, "console.log");
  const traceFile = join(dir, "trace.log");
  // -nodefaults: no NIC (its option ROM slows the BIOS), no VGA; then exactly COM1 and LPT1.
  // no_timer_check: on a busy host the emulated PIT can miss the kernel's boot-time
  // check ("IO-APIC + timer doesn't work!" panic); the check proves nothing here.
  const args = [
    ...["-accel", accel, "-m", String(spec.memoryMb ?? 512), "-smp", String(spec.smp ?? 1), "-nodefaults", "-display", "none", "-no-reboot"],
    ...["-kernel", kernelImage, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet no_timer_check"],
    ...["-serial", `file:${consoleFile}`, "-parallel", "null"],
    ...["-trace", "serial_write", "-trace", "parallel_ioport_write", "-D", traceFile, "-msg", "timestamp=on"],
    ...(spec.drives ?? []).flatMap((drive) => ["-drive", drive]),
  ];
  const startedUs = Date.now() * 1000;
  const timeoutMs = spec.timeoutMs ?? 90_000;
  const status = await new Promise<string>((done, fail) => {
    const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    qemu.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => qemu.kill("SIGKILL"), timeoutMs);
    let exited = false;
    let controlError: unknown;
    qemu.on("error", fail);
    qemu.on("close", (code, signal) => {
      clearTimeout(timer);
      exited = true;
      if (controlError) fail(controlError);
      else done(signal ? `killed by ${signal} after ${timeoutMs} ms` : code === 0 ? "" : `exit ${code}: ${stderr}`);
    });
    if (spec.control) {
      const guest: RunningGuest = {
        async marker(value) {
          while (!exited) {
            const { parallel } = parseTrace(existsSync(traceFile) ? readFileSync(traceFile, "utf8") : "");
            if (markersFrom(parallel).some((w) => w.val === value)) return;
            await sleep(10);
          }
          throw new Error(`QEMU exited before marker 0x${value.toString(16)}`);
        },
        async pause(ms) {
          qemu.kill("SIGSTOP");
          await sleep(ms);
          qemu.kill("SIGCONT");
        },
      };
      spec.control(guest).catch((e) => {
        controlError = e;
        qemu.kill("SIGCONT");
        qemu.kill("SIGKILL");
      });
    }
  });
  rmSync(initrd); // the biggest file of a run; the logs stay for a post-mortem
  const console = existsSync(consoleFile) ? readFileSync(consoleFile, "utf8") : "";
  if (status) throw new Error(`QEMU failed (${status}); console:\n${console}`);
  const { serial, parallel } = parseTrace(readFileSync(traceFile, "utf8"));
  return { console, serial, markers: markersFrom(parallel), startedUs };
}

/** The BIOS probes the parallel port before the kernel starts: markers start at "booted". */
function markersFrom(parallel: PortWrite[]): PortWrite[] {
  const booted = parallel.findIndex((w) => w.addr === 0 && w.val === PHASE.booted);
  return booted < 0 ? [] : parallel.slice(booted).filter((w) => w.addr === 0);
}

const modulesDir = `/lib/modules/${kernelRelease}`;

/** A module's file and those of its dependencies, in load order (modules.dep lists dependencies deepest last). */
function moduleFiles(name: string): string[] {
  const dep = readFileSync(join(modulesDir, "modules.dep"), "utf8");
  const line = dep.split("\n").find((l) => l.replace(/:.*/, "").replace(/^.*\//, "").replace(/\.ko(\.xz)?$/, "") === name.replace(/-/g, "_"));
  if (!line) throw new Error(`no module ${name} in ${modulesDir}/modules.dep`);
  const [file, deps] = line.split(":") as [string, string];
  return [...deps.trim().split(/\s+/).filter(Boolean).reverse(), file];
}

/** Archive entries and insmod lines for modules of the test kernel, each file once, dependencies first. */
function kernelModuleEntries(names: string[]): { entries: CpioEntry[]; lines: string[] } {
  const files = [...new Set(names.flatMap(moduleFiles))];
  if (files.some((f) => f.endsWith(".xz"))) throw new Error("compressed modules: decompress them first");
  const entries = files.map((f) => ({ path: `${modulesDir.slice(1)}/${f}`, mode: 0o644, data: readFileSync(join(modulesDir, f)) }));
  return { entries, lines: files.map((f) => `insmod ${modulesDir}/${f} || echo "qtrip-e2e: insmod ${f} failed"`) };
}

/** `/x/qtrip_abc.ko` → `qtrip_abc`: staprun finds the module by its file name. */
function moduleName(path: string): string {
  return path.replace(/^.*\//, "").replace(/\.ko$/, "");
}

// ---------------------------------------------------------------------------
// Reading a run

/** Every write to the channel register (COM1 + 7), boot included. */
export function channelWrites(run: GuestRun): PortWrite[] {
  return run.serial.filter((w) => w.addr === CHANNEL_OFFSET);
}

/** The trips QEMU saw: writes of the channel byte to the channel register. */
export function trips(run: GuestRun): PortWrite[] {
  return channelWrites(run).filter((w) => w.val === CHANNEL_VALUE);
}

/** When marker `value` was written (the first time), in µs; throws with the console when it never was. */
export function markerAt(run: GuestRun, value: number): number {
  const write = run.markers.find((w) => w.val === value);
  if (!write) throw new Error(`marker 0x${value.toString(16)} never written; console:\n${run.console}`);
  return write.us;
}

/**
 * When the guest's console started printing `text`, on QEMU's clock: the
 * console is COM1, so each character is a traced write to its data register.
 */
export function consoleTextAt(run: GuestRun, text: string): number | undefined {
  const data = run.serial.filter((w) => w.addr === 0);
  const at = data.map((w) => String.fromCharCode(w.val)).join("").indexOf(text);
  return at < 0 ? undefined : data[at]!.us;
}

/** The session reached its end with the module armed, so a missing trip means something. */
export function assertSessionRan(run: GuestRun): void {
  markerAt(run, PHASE.armed);
  markerAt(run, PHASE.done);
}

/** Builds the rules into one module and boots a session with it that must run to its end. */
export async function bootRules(source: string, session: Omit<GuestSession, "module">): Promise<GuestRun> {
  const run = await runGuest({ ...session, module: await buildRuleModule({ source }) });
  assertSessionRan(run);
  return run;
}
