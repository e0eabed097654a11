// Real-guest end-to-end harness: compiles a rule, builds its guest module with
// the real stap for the test kernel, boots that kernel under QEMU with an
// initramfs that loads the module and runs a workload, and reads what QEMU saw.
//
// Everything is observed from QEMU's side: its trace of serial register writes
// (`serial_write`: the trip is a write of the channel byte to COM1's scratch
// register, offset 7) and of parallel port writes (`parallel_ioport_write`: the
// workload's markers), both timestamped by QEMU on the host's clock. The guest's
// own console is read only for diagnostics and for the dry run's log line.
import { execFileSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GUEST_STAP_OPTIONS } from "../../../src/codegen/stap/index.js";
import { repoRoot } from "../../support/stap.js";
import { compileRule, stapModule, type Rule } from "../support/compile.js";
import { cpioArchive, directoryEntries, fileEntry, textEntry, type CpioEntry } from "../support/cpio.js";
import { kernelModules, kernelRelease, TEST_KERNEL, type BootKernel } from "../support/kernel.js";
import { withLibraries } from "../support/libraries.js";
import { runQemu, type Nic, type StoppedThread } from "../support/qemu.js";

export { kernelRelease };

/** The channel's defaults (LANGUAGE.md): byte 0x1f to port 0x3ff = COM1 (0x3f8) + 7. */
export const CHANNEL_OFFSET = 0x07;
export const CHANNEL_VALUE = 0x1f;

/** Markers the init script writes to the parallel port; a workload's calls write 1, 2, 3, ... */
export const PHASE = { booted: 0xf0, armed: 0xf1, done: 0xf2 } as const;

const programsDir = join(repoRoot, "test/e2e/guest/programs");
/** `QTRIP_E2E_ACCEL=kvm` to try KVM; our machines' nested KVM cannot boot Debian's kernel (MECHANISM.md). */
const accel = process.env.QTRIP_E2E_ACCEL ?? "tcg";

// ---------------------------------------------------------------------------
// Modules

/**
 * Builds a guest script into a module for the test kernel with the options the
 * script's header gives (stap -p4; nothing is loaded here). Identical scripts
 * are built once per process.
 */
export function buildModule(script: string, options = GUEST_STAP_OPTIONS): Promise<string> {
  return stapModule(script, { options });
}

export function buildRuleModule(rule: Rule): Promise<string> {
  return buildModule(compileRule(rule).guest);
}

// ---------------------------------------------------------------------------
// The initramfs: a shared base archive, plus a small one per session (the
// kernel unpacks concatenated cpio archives in order).

/** Static workload programs from programs/*.c, built at test time. */
function buildPrograms(dir: string): CpioEntry[] {
  return ["qt-trigger", "qt-net"].map((name) => {
    const binary = join(dir, name);
    execFileSync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", binary, join(programsDir, `${name}.c`)]);
    return fileEntry(`bin/${name}`, binary, 0o755);
  });
}

/** A guest to boot: a kernel, and the root whose staprun and stapio load modules (this machine's: "/"). */
export interface GuestMachine {
  kernel: BootKernel;
  /** The system whose SystemTap built the modules: its staprun must load them (a build target's chroot). */
  staprunRoot: string;
}

const THIS_MACHINE: GuestMachine = { kernel: TEST_KERNEL, staprunRoot: "/" };

/**
 * busybox, staprun and its libraries, the workload programs: the same for every session of a machine.
 * staprun execs stapio, which loads the module and, with -L, detaches once `begin` ran.
 */
const baseArchives = new Map<string, Promise<{ dir: string; archive: Buffer }>>();
function baseArchive(machine: GuestMachine) {
  const key = machine.staprunRoot;
  let made = baseArchives.get(key);
  if (!made) {
    made = (async () => {
      const dir = mkdtempSync(join(tmpdir(), "qtrip-guest-"));
      const root = machine.staprunRoot === "/" ? undefined : machine.staprunRoot;
      const entries: CpioEntry[] = [
        ...directoryEntries(["bin", "dev", "proc", "sys", "run", "tmp"]),
        fileEntry("bin/busybox", "/bin/busybox", 0o755),
        ...withLibraries(
          [
            { file: "/usr/bin/staprun", at: "usr/bin/staprun" },
            { file: "/usr/lib/systemtap/stapio", at: "usr/lib/systemtap/stapio" },
          ],
          undefined,
          root,
        ),
        ...buildPrograms(dir),
      ];
      return { dir, archive: cpioArchive(entries) };
    })();
    baseArchives.set(key, made);
  }
  return made;
}

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
// What sessions use

/** A session line that allows sysrq. */
export const SYSRQ = "echo 1 > /proc/sys/kernel/sysrq";
/** sysrq-l: asks every CPU for a backtrace (nmi_backtrace). */
export const NMI_BACKTRACE = "echo l > /proc/sysrq-trigger";

/**
 * A fresh raw disk image of `mib` MiB, as a QEMU `-drive` value (virtio: /dev/vda, vdb, ...
 * in order). `throttling`: QEMU's limit, e.g. "iops-total=1". `ext4`: formatted, and
 * initialised in full now, so that no lazy-init thread writes in the guest. `failingSectors`:
 * reads of these sectors fail (QEMU's blkdebug).
 */
export function virtioDisk(opts: { mib: number; throttling?: string; ext4?: boolean; failingSectors?: number[] }): string {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-disk-"));
  const file = join(dir, "disk.raw");
  writeFileSync(file, "");
  truncateSync(file, opts.mib << 20);
  if (opts.ext4) execFileSync("mkfs.ext4", ["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", file]);
  const throttling = opts.throttling ? `,throttling.${opts.throttling}` : "";
  if (!opts.failingSectors?.length) return `file=${file},if=virtio,format=raw${throttling}`;
  // QEMU's blkdebug fails every read that touches one of these 512-byte sectors with EIO, which
  // virtio reports to the guest (rerror=report): a real failing request, logged by the guest's block layer.
  const config = join(dir, "blkdebug.conf");
  writeFileSync(config, opts.failingSectors.map((n) => `[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "${n}"\n`).join("\n"));
  return `file=blkdebug:${config}:${file},if=virtio,format=raw${throttling}`;
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
  /** Modules (with their dependencies) in the initramfs but loaded only where the session says `load_later`. */
  laterModules?: string[];
  /** QEMU `-drive` values: the first is /dev/vda, and so on (virtio_blk needed). */
  drives?: string[];
  /** NICs, in PCI slot order: e.g. [{ netdev: "user,restrict=on", model: "virtio-net-pci" }] (their drivers needed: virtio_net, e1000). */
  nics?: Nic[];
  /** More files for the initramfs, guest path → host file: e.g. a helper module at "/oops.ko". */
  files?: Record<string, string>;
  /** More kernel command-line arguments, e.g. "lockdown=integrity". */
  kernelArgs?: string;
  /** Another kernel and SystemTap than this machine's (a build target's). */
  machine?: GuestMachine;
  /** Run alongside the guest, from the host: e.g. stop its vCPU for a while. */
  control?: (guest: RunningGuest) => Promise<void>;
  timeoutMs?: number;
}

/** A guest while it runs, as `control` sees it. */
export interface RunningGuest {
  /** Resolves once the guest has written marker `value` (polls QEMU's trace log). */
  marker(value: number): Promise<void>;
  /** Stops QEMU for `ms`, the guest's clocks running on (see RunningQemu.pause). */
  pause(ms: number): Promise<void>;
  /**
   * Stops vCPU `cpu`'s thread alone for `ms`, the rest of the machine running on
   * (RunningQemu.stopThread): the session must keep another vCPU writing markers every few ms
   * (e.g. `nanosleep:10x500`), the proof that it still runs. When it stopped and resumed (host
   * µs), and the stops tried again.
   */
  stopVcpu(cpu: number, ms: number): Promise<StoppedThread>;
}

/** Pauses the guest `pauseMs` once `delayMs` have passed after marker `marker`; returns when it resumed (host µs). */
export async function pauseAfter(guest: RunningGuest, marker: number, delayMs: number, pauseMs: number): Promise<number> {
  await guest.marker(marker);
  await new Promise((r) => setTimeout(r, delayMs));
  await guest.pause(pauseMs);
  return Date.now() * 1000;
}

/**
 * The init-script line that keeps vCPU 0 writing a marker every 10 ms for `ms` (markers from
 * `base` on, wrapping), the proof RunningGuest.stopVcpu needs that the rest of the machine runs.
 */
export function markersOnVcpu0(ms: number, base = 0x80): string {
  return `spawn z base:0x${base.toString(16)} cpu:0 nanosleep:10x${Math.ceil(ms / 10)}`;
}

/** Stops vCPU `cpu`'s thread alone for `stopMs` once `delayMs` have passed after marker `marker` (see RunningGuest.stopVcpu). */
export async function stopVcpuAfter(guest: RunningGuest, marker: number, delayMs: number, cpu: number, stopMs: number): Promise<StoppedThread> {
  await guest.marker(marker);
  await new Promise((r) => setTimeout(r, delayMs));
  return guest.stopVcpu(cpu, stopMs);
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
  const machine = spec.machine ?? THIS_MACHINE;
  const base = await baseArchive(machine);
  const kmods = kernelModules(spec.kernelModules ?? [], machine.kernel);
  const later = kernelModules(spec.laterModules ?? [], machine.kernel);
  const insmod = (files: string[]) => files.map((file) => `insmod ${file} || echo "qtrip-e2e: insmod ${file} failed"`);
  const loadLater = ["load_later() {", "  :", ...insmod(later.load.filter((f) => !kmods.load.includes(f))), "}"];
  const session = [...insmod(kmods.load), ...loadLater, spec.session].join("\n");
  const entries = [...kmods.entries, ...later.entries.filter((e) => !kmods.entries.some((k) => k.path === e.path))];
  const own: CpioEntry[] = [textEntry("init", initScript(session, spec.module && moduleName(spec.module)), 0o755), ...entries];
  if (spec.module) own.push(fileEntry(`${moduleName(spec.module)}.ko`, spec.module));
  for (const [path, file] of Object.entries(spec.files ?? {})) own.push(fileEntry(path.replace(/^\//, ""), file));
  const timeoutMs = spec.timeoutMs ?? 90_000;
  const run = await runQemu({
    dir: mkdtempSync(join(base.dir, "run-")),
    kernelImage: machine.kernel.image,
    initramfs: [base.archive, cpioArchive(own)],
    // no_timer_check: on a busy host the emulated PIT can miss the kernel's boot-time
    // check ("IO-APIC + timer doesn't work!" panic); the check proves nothing here.
    append: `console=ttyS0 panic=-1 quiet no_timer_check${spec.kernelArgs ? ` ${spec.kernelArgs}` : ""}`,
    accel,
    memoryMb: spec.memoryMb ?? 512,
    smp: spec.smp ?? 1,
    // With -nodefaults (no NIC, whose option ROM slows the BIOS; no VGA): exactly COM1 and LPT1.
    parallel: true,
    trace: ["serial_write", "parallel_ioport_write"],
    ...(spec.drives ? { drives: spec.drives } : {}),
    ...(spec.nics ? { nics: spec.nics } : {}),
    timeoutMs,
    ...(spec.control
      ? {
          control: (qemu) =>
            spec.control!({
              marker: (value) =>
                qemu.waitForTrace((trace) => markersFrom(parseTrace(trace).parallel).some((w) => w.val === value), `marker 0x${value.toString(16)}`),
              pause: (ms) => qemu.pause(ms),
              stopVcpu: (cpu, ms) =>
                qemu.stopThread(`CPU ${cpu}/${accel.toUpperCase()}`, ms, (sinceUs) => parseTrace(qemu.readTrace()).parallel.some((w) => w.us > sinceUs)),
            }),
        }
      : {}),
  });
  const status = run.timedOut ? `killed by SIGKILL after ${timeoutMs} ms` : run.status === 0 ? "" : `exit ${run.status}: ${run.stderr}`;
  if (status) throw new Error(`QEMU failed (${status}); console:\n${run.console}`);
  const { serial, parallel } = parseTrace(run.trace);
  return { console: run.console, serial, markers: markersFrom(parallel), startedUs: run.startedUs };
}

/** The BIOS probes the parallel port before the kernel starts: markers start at "booted". */
function markersFrom(parallel: PortWrite[]): PortWrite[] {
  const booted = parallel.findIndex((w) => w.addr === 0 && w.val === PHASE.booted);
  return booted < 0 ? [] : parallel.slice(booted).filter((w) => w.addr === 0);
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
/** The last marker before the (first) trip: the call that was in flight when it tripped. */
export function lastMarkerBeforeTrip(run: GuestRun): number {
  const at = trips(run)[0]!.us;
  return run.markers.filter((w) => w.us < at).at(-1)!.val;
}

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
function assertSessionRan(run: GuestRun): void {
  markerAt(run, PHASE.armed);
  markerAt(run, PHASE.done);
}

/** Builds the rules into one module and boots a session with it that must run to its end. */
export async function bootRules(rule: string | Rule, session: Omit<GuestSession, "module">): Promise<GuestRun> {
  const run = await runGuest({ ...session, module: await buildRuleModule(typeof rule === "string" ? { source: rule } : rule) });
  assertSessionRan(run);
  return run;
}
