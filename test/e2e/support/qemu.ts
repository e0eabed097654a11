// Runs the test kernel in QEMU (x86_64, no default devices, no display, no
// reboot: the machine's power-off, reboot or panic ends QEMU), with an initramfs
// made of cpio archives, COM1 as its console on QEMU's stdout, and optionally
// QEMU's trace of some events. Returns what the machine printed and what QEMU
// traced; what that means is for the harness that asked.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { kernelImage } from "./kernel.js";

/** A NIC: a QEMU -netdev value without its id (e.g. "user,restrict=on") and the device QEMU emulates. */
export interface Nic {
  netdev: string;
  model: "virtio-net-pci" | "e1000";
}

export interface QemuOptions {
  /** The run's directory: the initramfs while it runs; console.log and trace.log stay. */
  dir: string;
  /** cpio archives, concatenated: the kernel unpacks them in order. */
  initramfs: Buffer[];
  /** The kernel image (default: the test kernel's). */
  kernelImage?: string;
  /** The kernel's command line. */
  append: string;
  /** "tcg" (emulation) or "kvm". */
  accel: string;
  /** -cpu, e.g. "max" (TCG's nested AMD SVM); QEMU's default without it. */
  cpu?: string;
  memoryMb: number;
  smp: number;
  /** An LPT1 as well, whose writes can be traced (parallel_ioport_write). */
  parallel?: boolean;
  /** QEMU -drive values. */
  drives?: string[];
  /** NICs, in PCI slot order, each without an option ROM. */
  nics?: Nic[];
  /** QEMU trace events to log, each line stamped by QEMU with the host's clock. */
  trace?: string[];
  /** Then QEMU is killed (SIGKILL). */
  timeoutMs: number;
  /** Run alongside the machine, from the host; if it fails, QEMU is killed and the run fails with its error. */
  control?: (machine: RunningQemu) => Promise<void>;
}

/** A machine while it runs, as `control` sees it. */
export interface RunningQemu {
  /** QEMU's trace so far. */
  readTrace(): string;
  /** Resolves once `holds` is true of QEMU's trace so far (polled every 10 ms); throws if QEMU exits first. */
  waitForTrace(holds: (trace: string) => boolean, what: string): Promise<void>;
  /**
   * Stops the whole QEMU process for `ms` (SIGSTOP, then SIGCONT), as a host that does not
   * schedule the vCPU thread would. Unlike the monitor's `stop`, this lets the guest's clocks
   * run on: under TCG they follow the host's while the VM runs and freeze while it is stopped.
   */
  pause(ms: number): Promise<void>;
  /**
   * Stops one QEMU thread for `ms`, named as QEMU names it (`CPU 1/TCG`: one vCPU), the others
   * running on (ptrace: programs/thread-stop.c). A thread stopped while it holds QEMU's big lock
   * (under TCG a vCPU takes it for its interrupts and I/O) stops the whole machine: with
   * `runsOn`, a test of whether the rest of the machine still ran since a host time (µs), asked
   * 60 ms after each stop, such a stop is let go at once and tried again a little later.
   * Returns when the thread was stopped and let go (host µs, the trace log's clock), and how
   * many stops were tried again.
   */
  stopThread(name: string, ms: number, runsOn?: (sinceUs: number) => boolean): Promise<StoppedThread>;
}

export interface StoppedThread {
  stoppedUs: number;
  resumedUs: number;
  retries: number;
}

/** Stops thread `tid` for `ms` through programs/thread-stop.c (see RunningQemu.stopThread). */
async function stopThread(tid: number, ms: number, runsOn?: (sinceUs: number) => boolean): Promise<StoppedThread> {
  const helper = spawn(threadStopProgram(), [String(tid)], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  helper.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = createInterface({ input: helper.stdout })[Symbol.asyncIterator]();
  const say = async (command: string, answer: string): Promise<number> => {
    helper.stdin.write(`${command}\n`);
    const { value, done } = await lines.next();
    const m = done ? null : new RegExp(`^${answer} (\\d+)$`).exec(value as string);
    if (!m) throw new Error(`thread-stop ${tid}: no '${answer}' after '${command}': ${stderr || value}`);
    return Number(m[1]);
  };
  try {
    for (let retries = 0; ; retries++) {
      const stoppedUs = await say("stop", "stopped");
      if (runsOn) {
        await sleep(60);
        if (!runsOn(stoppedUs)) {
          await say("go", "resumed");
          if (retries >= 20) throw new Error(`thread-stop ${tid}: the rest of the machine stopped with it, 21 times`);
          await sleep(30 + ((retries * 17) % 50));
          continue;
        }
      }
      await sleep(Math.max(0, ms - (Date.now() * 1000 - stoppedUs) / 1000));
      return { stoppedUs, resumedUs: await say("go", "resumed"), retries };
    }
  } finally {
    helper.stdin.end();
  }
}

let threadStop: string | undefined;
/** programs/thread-stop.c, built once per test process. */
function threadStopProgram(): string {
  if (!threadStop) {
    const source = join(dirname(fileURLToPath(import.meta.url)), "programs", "thread-stop.c");
    threadStop = join(mkdtempSync(join(tmpdir(), "qtrip-thread-stop-")), "thread-stop");
    execFileSync("gcc", ["-O2", "-Wall", "-Werror", "-o", threadStop, source]);
  }
  return threadStop;
}

/** The thread of process `pid` named `name` (/proc/PID/task/TID/comm). */
function threadNamed(pid: number, name: string): number {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    if (comm === name) return Number(tid);
  }
  throw new Error(`QEMU (pid ${pid}) has no thread named '${name}'`);
}

export interface QemuRun {
  /** The serial console, as the machine wrote it. */
  console: string;
  /** Wall-clock milliseconds (Date.now()) at which each console line arrived from QEMU. */
  arrivals: { ms: number; line: string }[];
  /** QEMU's own messages. */
  stderr: string;
  /** QEMU's trace log (empty without `trace`). */
  trace: string;
  /** QEMU's exit status; null when it was killed. */
  status: number | null;
  timedOut: boolean;
  /** When QEMU was started (host clock, µs). */
  startedUs: number;
}

export async function runQemu(opts: QemuOptions): Promise<QemuRun> {
  const initrd = join(opts.dir, "initrd.cpio");
  writeFileSync(initrd, Buffer.concat(opts.initramfs));
  const consoleFile = join(opts.dir, "console.log");
  const traceFile = join(opts.dir, "trace.log");
  const args = [
    ...["-accel", opts.accel, ...(opts.cpu ? ["-cpu", opts.cpu] : []), "-m", String(opts.memoryMb), "-smp", String(opts.smp)],
    // Threads named for what they run (`CPU 1/TCG`), so that one vCPU can be stopped alone.
    ...["-name", "qtrip,debug-threads=on", "-nodefaults", "-display", "none", "-no-reboot"],
    ...["-kernel", opts.kernelImage ?? kernelImage, "-initrd", initrd, "-append", opts.append],
    ...["-serial", "stdio", ...(opts.parallel ? ["-parallel", "null"] : [])],
    ...(opts.trace ?? []).flatMap((event) => ["-trace", event]),
    ...(opts.trace ? ["-D", traceFile, "-msg", "timestamp=on"] : []),
    ...(opts.drives ?? []).flatMap((drive) => ["-drive", drive]),
    ...(opts.nics ?? []).flatMap((nic, i) => ["-netdev", `${nic.netdev},id=net${i}`, "-device", `${nic.model},netdev=net${i},romfile=`]),
  ];
  const readTrace = () => (existsSync(traceFile) ? readFileSync(traceFile, "utf8") : "");
  const output: Buffer[] = [];
  const arrivals: QemuRun["arrivals"] = [];
  let stderr = "";
  let timedOut = false;
  const startedUs = Date.now() * 1000;
  const status = await new Promise<number | null>((done, fail) => {
    const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    qemu.stdout.on("data", (chunk: Buffer) => {
      const ms = Date.now();
      output.push(chunk);
      appendFileSync(consoleFile, chunk); // for a post-mortem of a run that never ends
      const lines = (pending + chunk.toString("latin1")).replace(/\r/g, "").split("\n");
      pending = lines.pop()!;
      for (const line of lines) arrivals.push({ ms, line });
    });
    qemu.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill("SIGKILL");
    }, opts.timeoutMs);
    let exited = false;
    let controlError: unknown;
    qemu.on("error", fail);
    qemu.on("close", (code) => {
      clearTimeout(timer);
      exited = true;
      if (controlError) fail(controlError);
      else done(code);
    });
    if (opts.control) {
      const machine: RunningQemu = {
        readTrace,
        async waitForTrace(holds, what) {
          while (!exited) {
            if (holds(readTrace())) return;
            await sleep(10);
          }
          throw new Error(`QEMU exited before ${what}`);
        },
        async pause(ms) {
          qemu.kill("SIGSTOP");
          await sleep(ms);
          qemu.kill("SIGCONT");
        },
        stopThread: (name, ms, runsOn) => stopThread(threadNamed(qemu.pid!, name), ms, runsOn),
      };
      opts.control(machine).catch((e) => {
        controlError = e;
        qemu.kill("SIGCONT");
        qemu.kill("SIGKILL");
      });
    }
  });
  rmSync(initrd); // the biggest file of a run; the logs stay
  return { console: Buffer.concat(output).toString("utf8"), arrivals, stderr, trace: readTrace(), status, timedOut, startedUs };
}
