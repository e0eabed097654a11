// Pauses of a real KVM guest (issue #26 item 4), in the emulated hypervisor of the full
// chain: Debian's QEMU with KVM runs the guest, which loads the guest module qtrip generated
// for PAUSE_RULES; the host arms the host module (action log) on that QEMU and pauses the
// guest twice through QEMU's monitor (HMP `stop`, 5 s, `cont`): first on kvm-clock, the
// guest's default clocksource, which hides a pause; then on the TSC, which sees all of it.
// Between the pauses the guest switches its clocksource when the host says so.
// pauseOptInBoot: one pause, which a rule that opts in (`counting pauses`) counts.
import { bootHost, type HostBoot } from "../../host/support/emulated-host.js";
import { guestEntries, vmmEntries, vmmShell } from "../../host/support/vmm.js";
import { chainModules } from "./chain.js";

export const PAUSE_MS = 5000;

/**
 * The only rule that may trip: a 3 s sleep after a resume. A pause that a rule counted would
 * trip it (or tick gap, or timer late) at the second resume, while a 1 s sleep is in flight.
 */
export const PAUSE_RULES = `case "CHAIN-26"
when event vm_resumed then syscall nanosleep latency > 2s on comm "qt-trigger" within 120s as "slow sleep after a resume"
when tick gap > 2s as "tick gap"
when timer late > 2s as "late timer"
`;

/** 1 s sleeps through both pauses, then the 3 s sleep. */
const CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
const WORKLOAD = [
  `echo "qtrip-l2: clocksource $(cat ${CLOCKSOURCE})"`,
  "qt-trigger markers:0 kmsg:1 nanosleep:1000x16 nanosleep:3000 &",
  // The host's second line: the TSC from now on (tsc=reliable keeps it selectable under nested KVM).
  "read line < /dev/ttyS0",
  `echo tsc > ${CLOCKSOURCE}; echo "qtrip-l2: clocksource $(cat ${CLOCKSOURCE})"`,
  "wait",
].join("\n");

/** The host's monitor command for pause n: `stop`, PAUSE_MS, `cont`, each said in the host's log. */
function pause(n: number): string {
  return `say "pause ${n}: stop"; echo stop > /tmp/mon.in; sleep ${PAUSE_MS / 1000}; echo cont > /tmp/mon.in; say "pause ${n}: cont"`;
}

/**
 * One boot of the emulated hypervisor whose guest runs `shell` with the guest module of `rules`,
 * QEMU's monitor on two pipes; once the host module is armed and the guest released, `steps`.
 */
async function pausedBoot(name: string, rules: string, shell: string, steps: string[]): Promise<HostBoot> {
  const { guestModule, hostModule } = await chainModules(rules, "log", { guest: "qt_chain_pause", host: "qt_chain_host" });
  return bootHost({
    name,
    files: { "lib/qtrip/qt_chain_host.ko": hostModule },
    entries: [...vmmEntries(), ...guestEntries(guestModule, { shell })],
    smp: 2,
    memoryMb: 1024,
    timeoutMs: 600_000, // a boot takes 80-100 s under TCG, 2-4 min on a loaded machine
    scenario: [
      vmmShell,
      "step vmm",
      // QEMU's monitor on two pipes (QEMU opens both): commands in, replies drained.
      "mkfifo /tmp/mon.in /tmp/mon.out",
      'VMM_EXTRA="-chardev pipe,id=mon,path=/tmp/mon -mon chardev=mon,mode=readline"',
      'L2_APPEND="tsc=reliable"',
      "start_vmm",
      "cat /tmp/mon.out > /dev/null &",
      "wait_log 'qtrip-l2: armed' 400",
      "arm -x $VMM /lib/qtrip/qt_chain_host.ko && say armed",
      "step pauses",
      "release_guest",
      ...steps,
      "disarm",
    ].join("\n"),
  });
}

export function pauseChainBoot(): Promise<HostBoot> {
  return pausedBoot("chain-pause", PAUSE_RULES, WORKLOAD, [
    "sleep 3",
    pause(1),
    "sleep 2",
    "echo tsc >&3",
    "wait_log 'qtrip-l2: clocksource tsc' 20",
    "sleep 2",
    pause(2),
    "wait_log 'qtrip: TRIP case' 60",
    "wait_log 'qtrip-l2: done' 60",
  ]);
}

/** What a boot that opts in proves, by the clocksource the guest has during its one pause. */
export const OPT_IN = {
  /** kvm-clock hides the pause from the guest: only the opt-in's history adds it, and a resume scans at once. */
  "kvm-clock": {
    rules: `case "CHAIN-26-OPT-IN"
when syscall nanosleep latency > 2s on comm "qt-trigger" counting pauses as "sleep counting pauses"
when tick gap > 2s as "tick gap"
when timer late > 2s as "late timer"
`,
    // 1 s sleeps through the pause: none is 2 s old by the guest's clock; the one across the pause is, with it.
    trigger: "qt-trigger markers:0 kmsg:1 nanosleep:1000x16",
    label: "sleep counting pauses",
  },
  /** The TSC sees the pause: a busy CPU's tick gap across it counts it, at that CPU's first tick back. */
  tsc: {
    rules: `case "CHAIN-26-OPT-IN"
when tick gap > 2s counting pauses as "tick gap counting pauses"
when syscall nanosleep latency > 2s on comm "qt-trigger" as "sleep"
when timer late > 2s as "late timer"
`,
    // A busy CPU (no system call) through the pause, beside 1 s sleeps.
    trigger: "qt-trigger markers:0 kmsg:1 spin:20000 & qt-trigger markers:0 kmsg:1 nanosleep:1000x16",
    label: "tick gap counting pauses",
  },
} as const;

export type OptInClock = keyof typeof OPT_IN;

export function pauseOptInBoot(clock: OptInClock): Promise<HostBoot> {
  const variant = OPT_IN[clock];
  const shell = [
    ...(clock === "tsc" ? [`echo tsc > ${CLOCKSOURCE}`] : []),
    `echo "qtrip-l2: clocksource $(cat ${CLOCKSOURCE})"`,
    `(${variant.trigger}) &`,
    "wait",
  ].join("\n");
  return pausedBoot(`chain-pause-opt-in-${clock}`, variant.rules, shell, [
    `wait_log 'qtrip-l2: clocksource ${clock}' 20`,
    "sleep 3",
    pause(1),
    "wait_log 'qtrip: TRIP case' 60",
  ]);
}
