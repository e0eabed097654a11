// The host emitter: the fixed probe that crashes the hypervisor when a guest
// writes the channel byte to the channel port. It depends on the channel, the
// action, the probe point and the case only — never on the rules.
import type { HostPlan } from "../../plan/host.js";
import { emitFragments, type Fragment } from "./fragment.js";
import { header } from "./header.js";
import { HOST_ACTION_RECORDS, HOST_PROBE_RECORDS, type HostAction, type HostProbe } from "./host-records.js";
import { HOST_STAP_OPTIONS } from "./options.js";
import { ARMING_CHECK_MS, ARMING_GRACE_MS, armingWatch } from "./runtime/host-arming.js";
import { chosenGuest, NO_GUEST_CHOSEN } from "./runtime/host-guest.js";
import { moduleSymbols } from "./runtime/kernel-facts.js";
import { refuse } from "./runtime/refuse.js";
import { commentText, hex, stapString } from "./syntax.js";

/** `rule` → `rule.host.stp` */
export function hostScriptName(outputBase: string): string {
  return `${outputBase}.host.stp`;
}

/** The banner, then the action: the first vCPU to write acts, unless the action only logs. */
function actFragment(action: HostAction): Fragment {
  const record = HOST_ACTION_RECORDS[action];
  const once = record.crashes
    ? ["\t/* Several vCPUs may write at once: the first one acts, the others wait for the crash. */", "\tif (atomic_cmpxchg(&qt_fired, 0, 1) != 0)", "\t\treturn;", ""]
    : [];
  return {
    name: `action ${action}`,
    c: [
      "#include <linux/atomic.h>",
      "#include <linux/kernel.h>",
      "#include <linux/printk.h>",
      "#include <linux/sched.h>",
      "#include <linux/string.h>",
      "",
      ...(record.crashes ? ["static atomic_t qt_fired;"] : []),
      "static char qt_case[256];",
      "",
      "static void qt_act(void)",
      "{",
      "\tstruct task_struct *vmm = current->group_leader;",
      "",
      ...once,
      String.raw`	printk(KERN_EMERG "qtrip: TRIP case '%s': guest vCPU thread '%s' (tid %d) of VMM '%s' (pid %d) wrote 0x%02x to port 0x%x; %s\n",`,
      `\t       qt_case, current->comm, task_pid_nr(current), vmm->comm, task_tgid_nr(current), QT_CHANNEL_VALUE, QT_CHANNEL_PORT, ${JSON.stringify(record.banner)});`,
      ...record.act.map((l) => `\t${l}`),
      "}",
    ].join("\n"),
    stap: [
      "function qt_fire() %{",
      "\tqt_act();",
      "%}",
      "",
      "function qt_host_arm(case_id:string) %{",
      "\tstrscpy(qt_case, STAP_ARG_case_id, sizeof(qt_case));",
      "%}",
    ].join("\n"),
  };
}

/** A crashing action refuses to arm without a crash kernel: a trip would crash the host and leave no dump. */
const crashKernel: Fragment = {
  name: "crash kernel",
  requires: [refuse],
  c: "#include <linux/kexec.h>",
  stap: String.raw`function qt_crash_kernel_loaded:long() %{
	STAP_RETURN(kexec_crash_loaded());
%}`,
};

/** "armed" in the kernel log, from the arming watch once the probe point is live. */
function armedNotice(action: HostAction, probe: HostProbe, anyGuest: boolean): Fragment {
  const guests = anyGuest ? String.raw`ANY guest on this host (compiled with --any-guest)` : String.raw`only the guest of VMM pid %d`;
  return {
    name: "armed notice",
    c: String.raw`static void qt_log_armed(void)
{
	printk(KERN_INFO "qtrip: host probe armed: case '%s', port 0x%x byte 0x%02x, action ${action}, probe ${probe}, ${guests}\n",
	       qt_case, QT_CHANNEL_PORT, QT_CHANNEL_VALUE${anyGuest ? "" : ", _stp_target"});
}`,
  };
}

/** The header's commands: the chosen guest first, by VMM pid and (libvirt) by domain name. */
function runLines(outputName: string, anyGuest: boolean, libvirtDomain: string | undefined): string[] {
  const stap = `stap ${HOST_STAP_OPTIONS}`;
  if (anyGuest) return [`${stap} ${outputName}   # ANY guest on this host can trip it (--any-guest)`];
  return [
    `${stap} -x VMM_PID ${outputName}   # VMM_PID: the guest's QEMU process`,
    `${stap} -x $(cat /run/libvirt/qemu/${libvirtDomain ?? "DOMAIN"}.pid) ${outputName}   # libvirt${libvirtDomain ? "" : ": DOMAIN is the guest's domain name"}`,
  ];
}

function guestDoc(anyGuest: boolean): string {
  return anyGuest
    ? "Compiled with --any-guest: ANY guest on this hypervisor trips it. Root in any tenant's guest\n" +
        "can crash this host by writing one byte to the port, and a guest whose serial driver writes\n" +
        "that scratch register does it by accident. Use it only on a host that runs nothing else."
    : "Only the chosen guest trips it: its VMM process (-x PID) and that process's vCPU threads.\n" +
        "It refuses to arm without -x, or when PID is not a process with a KVM virtual machine open.\n" +
        "When that process exits (a restarted guest has a new pid) the script stops, saying so.";
}

/** The host script of a plan whose action and probe are SystemTap's (the registry checked them). */
export function emitHost(plan: HostPlan): string {
  const action = plan.action as HostAction;
  const probe = plan.probe as HostProbe;
  const anyGuest = plan.vmm.kind === "any";
  const libvirtDomain = plan.vmm.kind === "libvirt" ? plan.vmm.domain : undefined;
  const { name: sourceName, text: sourceText } = plan.source;
  const outputName = hostScriptName(plan.outputBase);
  const port = hex(plan.channel.port);
  const value = hex(plan.channel.value);
  const actionRecord = HOST_ACTION_RECORDS[action];
  const probeRecord = HOST_PROBE_RECORDS[probe];
  if (anyGuest && probeRecord.needsChosenGuest) throw new Error(`host probe point ${probe} needs a chosen guest (stap -x): not with anyGuest`);
  const watch = armingWatch(probeRecord.arming, armedNotice(action, probe, anyGuest), probeRecord.notLive);
  const fragments = [
    actFragment(action),
    ...probeRecord.fragments,
    ...(actionRecord.crashes ? [crashKernel] : []),
    ...(anyGuest ? [] : [chosenGuest]),
    watch,
  ];
  const caseId = stapString(plan.caseId ?? "");
  const top = header({
    sourceName,
    sourceText,
    file: plan,
    role: `qtrip host probe: action ${action}, probe point ${probe}`,
    run: runLines(outputName, anyGuest, libvirtDomain),
    body: [
      `Runs on the hypervisor. When a vCPU writes byte ${value} to port ${port} (one OUT of one byte),\nit logs a banner naming the case and the guest, then acts. Without a compiler there:\n\`qtrip build ${commentText(sourceName)} --kernel GUEST_RELEASE --host-kernel HOST_RELEASE\` elsewhere, then the\nstaprun command it prints (\`staprun -L -x QEMU_PID RULE_host.ko\`).`,
      guestDoc(anyGuest),
      actionRecord.doc,
      probeRecord.doc,
      `It logs "qtrip: host probe armed" only once the probe point is live (checked every ${ARMING_CHECK_MS} ms);\n` +
        `while kvm is not loaded it says it is waiting for kvm; if kvm is loaded and the probe point\nis still not live ${ARMING_GRACE_MS} ms later, it stops with a message (staprun exits 1).`,
      actionRecord.crashes
        ? "It refuses to arm unless a crash kernel is loaded (/sys/kernel/kexec_crash_loaded is 1):\nwithout one, a trip would crash the host and leave no dump. Rehearse with --host-action log."
        : "Rehearsal: it arms without a crash kernel.",
    ],
  });
  const lines = [
    "%{",
    `#define QT_CHANNEL_PORT ${port}`,
    `#define QT_CHANNEL_VALUE ${value}`,
    "%}",
    "",
    ...emitFragments(fragments),
    "",
    "# Checks that can refuse; the arming watch says \"armed\" once the probe point is live.",
    "probe begin {",
    ...(anyGuest
      ? []
      : [
          "\tif (target() == 0) {",
          `\t\tqt_refuse(${stapString(NO_GUEST_CHOSEN)})`,
          "\t\tnext",
          "\t}",
          "\tqt_problem = qt_vmm_problem(target())",
          '\tif (qt_problem != "") {',
          "\t\tqt_refuse(qt_problem)",
          "\t\tnext",
          "\t}",
        ]),
    ...(actionRecord.crashes
      ? [
          "\tif (!qt_crash_kernel_loaded()) {",
          '\t\tqt_refuse("qtrip: no crash kernel is loaded, so a trip would leave no dump: set up kdump, or rehearse with --host-action log")',
          "\t\tnext",
          "\t}",
        ]
      : []),
    `\tqt_host_arm(${caseId})`,
    ...(probeRecord.fragments.includes(moduleSymbols) ? ["\tqt_kernel_resolves_module_symbols() # before the kprobe on kvm.ko is registered"] : []),
    "}",
    "",
    ...probeRecord.handler(port, value, anyGuest ? undefined : "pid() == target()"),
  ];
  return `${top}\n${lines.join("\n")}\n`;
}
