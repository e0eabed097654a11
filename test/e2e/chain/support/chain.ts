// The whole chain in one boot of the emulated hypervisor (test/e2e/host/support):
// its QEMU, with KVM, runs a Linux guest that loads the guest module qtrip
// generated for a rule; the host runs the host module qtrip generated for the
// same rule, armed on that QEMU with a crash kernel loaded. When the guest's
// rule trips, its port write must crash the host into its capture kernel, which
// saves the dump with makedumpfile (support/dump.ts).
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSource } from "../../../../src/compile.js";
import { GUEST_STAP_OPTIONS, HOST_STAP_OPTIONS, type HostAction } from "../../../../src/codegen/stap/index.js";
import { dumpDisk as rawDisk, readDumps } from "../../host/support/report-scenarios.js";
import { compileRule, stapModule } from "../../support/compile.js";
import { bootHost, type HostBoot } from "../../host/support/emulated-host.js";
import { guestEntries, vmmEntries, vmmShell, type GuestWorkload } from "../../host/support/vmm.js";
import { captureEntries, dumpDisk, type DumpDisk } from "./dump.js";

/** A rule of the chain, the guest's workload that makes it hold, and the record the guest's module logs as it trips. */
export interface ChainRule {
  name: string;
  case: string;
  source: string;
  workload: GuestWorkload;
  /** The guest kernel's log record of the trip, written just before the port: only the guest's memory holds it. */
  guestRecord: string;
}

export const THRESHOLD_MS = 200;

/** The chain's boots, one taken a run in turn (support/sample.ts): three kdump cases, the ftrace freeze, the pauses, steal, two pauses a rule counts. */
export const CHAIN_ROTATION = 8;
/** The pauses' slot in that rotation (pause.test.ts). */
export const PAUSE_SLOT = 4;
/** Steal's slot (steal.test.ts). */
export const STEAL_SLOT = 5;
/** The slots of the pauses a rule counts (`counting pauses`, pause.test.ts), by the guest's clocksource. */
export const PAUSE_OPT_IN_SLOTS = { "kvm-clock": 6, tsc: 7 } as const;

/** A nanosleep of the watched pid blocked past 200 ms: qt-trigger sleeps 5 s, so it trips 200 ms in. */
export const SYSCALL_RULE: ChainRule = {
  name: "syscall",
  case: "CHAIN-16",
  source: `case "CHAIN-16"\nparam pid: int\nwhen syscall nanosleep latency > ${THRESHOLD_MS}ms on pid $pid as "slow nanosleep"\n`,
  workload: { trigger: "nanosleep:5000" },
  guestRecord: "qtrip: tripped: slow nanosleep: writing 0x1f to port 0x3ff",
};

/** An NMI backtrace in the guest kernel (the original post's trigger), provoked with sysrq-l. */
export const NMI_RULE: ChainRule = {
  name: "nmi",
  case: "CHAIN-16-NMI",
  source: `case "CHAIN-16-NMI"\nwhen event nmi_backtrace as "nmi backtrace"\n`,
  workload: { shell: "echo 1 > /proc/sys/kernel/sysrq; echo l > /proc/sysrq-trigger" },
  guestRecord: "qtrip: tripped: nmi backtrace: writing 0x1f to port 0x3ff",
};

export interface ChainBoot extends HostBoot {
  disk: DumpDisk;
}

/** The guest and host modules qtrip generates for a chain's rule file, built side by side. */
export async function chainModules(source: string, action: HostAction, names: { guest: string; host: string }): Promise<{ guestModule: string; hostModule: string }> {
  const { guest, host } = compileRule({ source, hostAction: action });
  const [guestModule, hostModule] = await Promise.all([
    stapModule(guest, { options: GUEST_STAP_OPTIONS, name: names.guest }),
    stapModule(host, { options: HOST_STAP_OPTIONS, name: names.host }),
  ]);
  return { guestModule, hostModule };
}

export async function chainBoot(rule: ChainRule, action: HostAction, opts: { name?: string; smp?: number } = {}): Promise<ChainBoot> {
  const { guestModule, hostModule } = await chainModules(rule.source, action, { guest: `qt_chain_${rule.name}`, host: "qt_chain_host" });
  const disk = dumpDisk();
  const boot = await bootHost({
    name: opts.name ?? `chain-${rule.name}-${action}`,
    files: { "lib/qtrip/qt_chain_host.ko": hostModule },
    entries: [...vmmEntries(), ...guestEntries(guestModule, rule.workload), ...captureEntries()],
    // Two CPUs: the dump has a CPU that did not crash, stopped by the crash NMI.
    smp: opts.smp ?? 2,
    crashkernel: "384M", // room for makedumpfile in the capture kernel (256M, enough for vmcore-dmesg, not tried)
    memoryMb: 2560,
    drives: [disk.drive],
    timeoutMs: 600_000, // a boot takes 80-100 s under TCG, 2-4 min on a loaded machine
    scenario: [
      vmmShell,
      "step kexec",
      "load_crash_kernel",
      "step vmm",
      "start_vmm",
      "wait_log 'qtrip-l2: armed' 400",
      'say "vmm threads: $(for t in /proc/$VMM/task/*; do echo "${t##*/}=$(cat $t/comm)"; done | tr "\\n" ",")"',
      "arm -x $VMM /lib/qtrip/qt_chain_host.ko && say armed",
      "step trip",
      "release_guest",
      "wait_log 'qtrip-l2: done' 60",
      'say "the host survived the trip"',
    ].join("\n"),
  });
  return { ...boot, disk };
}

/** A capture directory the emulated host wrote to its disk, read back here. */
export interface FreezeChainBoot extends HostBoot {
  /** The capture directory's files (trace.txt, meta.json), here; undefined when the host wrote none. */
  captureDir?: string;
}

/**
 * The full chain with the ftrace backend's freeze on the host (issue 21): the same guest
 * and rule; the host runs `rule.host.sh --host-backend ftrace --host-action freeze` for
 * that QEMU. The guest's trip freezes the recorder; the host runs on, copies the capture
 * directory onto its disk as a tar archive (no file system: the raw disk) and powers off.
 */
export async function freezeChainBoot(rule: ChainRule, opts: { name?: string } = {}): Promise<FreezeChainBoot> {
  const { guest } = compileRule({ source: rule.source });
  const host = compileSource(rule.source, { fileName: "chain.qt", hostBackend: "ftrace", hostAction: "freeze" }).outputs!.host;
  const guestModule = await stapModule(guest, { options: GUEST_STAP_OPTIONS, name: `qt_chain_${rule.name}` });
  const work = mkdtempSync(join(tmpdir(), "qtrip-chain-freeze-"));
  const script = join(work, "freeze.sh");
  writeFileSync(script, host);
  const disk = rawDisk(work);
  const boot = await bootHost({
    name: opts.name ?? `chain-${rule.name}-freeze`,
    files: { "lib/qtrip/freeze.sh": script },
    entries: [...vmmEntries(), ...guestEntries(guestModule, rule.workload), ...disk.entries],
    smp: 2,
    memoryMb: 2560,
    drives: [disk.drive],
    timeoutMs: 600_000,
    scenario: [
      vmmShell,
      disk.load,
      "step vmm",
      "start_vmm",
      "wait_log 'qtrip-l2: armed' 400",
      'say "vmm threads: $(for t in /proc/$VMM/task/*; do echo "${t##*/}=$(cat $t/comm)"; done | tr "\\n" ",")"',
      "mkdir -p /tmp/cap",
      "sh /lib/qtrip/freeze.sh -x $VMM --capture-dir /tmp/cap > /tmp/freeze.out 2>&1 & s=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/freeze.out && break; sleep 0.1; done",
      "report script < /tmp/freeze.out",
      "step trip",
      "release_guest",
      "finish $s 120",
      "report script < /tmp/freeze.out",
      "wait_log 'qtrip-l2: done' 30",
      "kill $VMM 2> /dev/null; wait $VMM",
      "step save",
      'for d in /tmp/cap/*; do say "capture $(basename $d): $(ls $d | tr \'\\n\' \' \')"; tar cf /dev/vda -C $d trace.txt meta.json && say "capture saved"; done',
      "sync",
    ].join("\n"),
  });
  const out = readDumps(disk, join(work, "capture"));
  return { ...boot, ...(existsSync(join(out, "meta.json")) ? { captureDir: out } : {}) };
}
