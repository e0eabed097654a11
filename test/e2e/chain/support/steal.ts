// Real steal time, for `steal > P% within D` (issue 26): the emulated hypervisor's
// QEMU runs its guest with KVM, whose steal-time record the guest kernel reads; its
// vCPU thread is pinned alone on host CPU 1 as it starts (the rest of QEMU and the
// scenario on CPU 0). The guest spins in two phases: first with CPU 1 to itself (no steal to
// speak of), then with a busy host task of the same priority started on CPU 1 when
// the guest says so: the host's scheduler shares the CPU, and the guest is robbed of
// about half its time. The host script's action is `log`: the host survives the trip
// and the guest goes on, so one boot shows both phases.
import { bootHost, type HostBoot } from "../../host/support/emulated-host.js";
import { guestEntries, vmmEntries, vmmShell } from "../../host/support/vmm.js";
import { chainModules } from "./chain.js";

export const STEAL_CASE = "CHAIN-STEAL";
export const STEAL_LABEL = "vCPU robbed";
/** The share and window of the rule. */
export const STEAL_PERCENT = 20;
export const STEAL_WINDOW_MS = 1000;
/** Each phase's spin in the guest, ms. */
export const PHASE_MS = { quiet: 8000, hog: 12000 };

// The guest's boot under a loaded emulated host has steal of its own: the rule counts only after the guest's
// SIGUSR1 at "go" (a sequence), so that the two phases alone decide.
const SOURCE = `case "${STEAL_CASE}"\nwhen signal SIGUSR1 then steal > ${STEAL_PERCENT}% within ${STEAL_WINDOW_MS}ms within 1m as "${STEAL_LABEL}"\n`;

// The guest's /proc/stat line for all CPUs before and after each phase: its eighth field is steal, in USER_HZ ticks.
const stat = (when: string) => `echo "qtrip-l2: stat ${when} $(head -1 /proc/stat)"`;
const GUEST_WORKLOAD = [
  "sleep 100 & kill -USR1 $!",
  stat("start"),
  `qt-trigger markers:0 spin:${PHASE_MS.quiet}`,
  stat("quiet"),
  "echo qtrip-l2: phase hog",
  `qt-trigger markers:0 spin:${PHASE_MS.hog}`,
  stat("hog"),
].join("\n");

export async function stealChainBoot(): Promise<HostBoot> {
  const { guestModule, hostModule } = await chainModules(SOURCE, "log", { guest: "qt_chain_steal", host: "qt_chain_steal_host" });
  return bootHost({
    name: "chain-steal-log",
    files: { "lib/qtrip/qt_chain_steal_host.ko": hostModule },
    entries: [...vmmEntries(), ...guestEntries(guestModule, { shell: GUEST_WORKLOAD })],
    smp: 2,
    memoryMb: 1024,
    timeoutMs: 600_000, // a boot takes 80-100 s under TCG, more on a loaded machine
    scenario: [
      vmmShell,
      // The scenario, and QEMU with every thread it starts, on CPU 0; then the vCPU thread alone on CPU 1.
      "taskset -p -c 0 $$ > /dev/null",
      "step vmm",
      "start_vmm",
      "for i in $(seq 100); do",
      `  VCPU=$(for t in /proc/$VMM/task/*; do [ "$(cat $t/comm 2> /dev/null)" = "CPU 0/KVM" ] && echo \${t##*/}; done)`,
      '  [ -n "$VCPU" ] && break; sleep 0.1',
      "done",
      'taskset -p -c 1 $VCPU > /dev/null; say "vcpu thread $VCPU: $(taskset -p $VCPU)"',
      "wait_log 'qtrip-l2: armed' 400",
      "arm -x $VMM /lib/qtrip/qt_chain_steal_host.ko && say armed",
      "step quiet",
      "release_guest",
      "wait_log 'qtrip-l2: phase hog' 120",
      "step hog",
      // A busy task of the guest's vCPU thread's priority (nice 0, SCHED_OTHER), on its CPU.
      "sh -c 'while :; do :; done' & HOG=$!",
      "taskset -p -c 1 $HOG > /dev/null",
      'say "hog started: pid $HOG, $(taskset -p $HOG)"',
      "wait_log 'qtrip-l2: done' 120",
      "kill $HOG",
      "disarm",
    ].join("\n"),
  });
}
