// The host emitter: the fixed probe that crashes the hypervisor when a guest
// writes the channel byte to the channel port. It depends on the channel, the
// action, the probe point and the case only — never on the rules.
import type { HostPlan } from "../../plan/host.js";
import { emitFragments, type Fragment } from "./fragment.js";
import { header } from "./header.js";
import { HOST_ACTION_RECORDS, HOST_PROBE_RECORDS, LOG_BURST, LOG_INTERVAL_S, type HostAction, type HostProbe } from "./host-records.js";
import { HOST_STAP_OPTIONS } from "./options.js";
import { ARMING_CHECK_MS, ARMING_GRACE_MS, armingWatch } from "./fragments/host-arming.js";
import { chosenGuest, IN_CHOSEN_VMM, NO_GUEST_CHOSEN } from "./fragments/host-guest.js";
import { moduleSymbols } from "./fragments/kernel-facts.js";
import { refuse } from "./fragments/refuse.js";
import { shellWord } from "../shell.js";
import { launcherName } from "./launcher.js";
import { commentText, hex, stapString } from "./syntax.js";

/** `rule` → `rule.host.stp` */
export function hostScriptName(outputBase: string): string {
  return `${outputBase}.host.stp`;
}

/**
 * The banner, then the action: the first vCPU to write acts, unless the action only logs.
 * A crashing action checks the crash kernel again here: kdump may have been unloaded since
 * the script armed (kexec -p -u, a service restart), and a crash then leaves no dump. The
 * action logs, then, and qt_act returns 1: the script disarms. A logging action is rate
 * limited: every write it does not log is counted, and the count is said at the next
 * banner and when the script ends.
 */
function actFragment(action: HostAction): Fragment {
  const record = HOST_ACTION_RECORDS[action];
  const once = record.crashes
    ? ["\t/* Several vCPUs may write at once: the first one acts, the others wait for the crash. */", "\tif (atomic_cmpxchg(&qt_fired, 0, 1) != 0)", "\t\treturn 0;", ""]
    : [];
  const banner = (suffix: string, args: string, text: string) => [
    String.raw`	printk(KERN_EMERG "qtrip: TRIP case '%s': guest vCPU thread '%s' (tid %d) of VMM '%s' (pid %d) wrote 0x%02x to port 0x%x; %s${suffix}\n",`,
    `\t       qt_case, current->comm, task_pid_nr(current), vmm->comm, task_tgid_nr(current), QT_CHANNEL_VALUE, QT_CHANNEL_PORT, ${text}${args});`,
  ];
  const act = record.crashes
    ? [
        "\tif (!kexec_crash_loaded()) {",
        ...banner("", "", JSON.stringify("NOT crashing: no crash kernel is loaded any more (unloaded since the script armed), and a crash would leave no dump; host probe disarmed")).map((l) => `\t${l}`),
        "\t\treturn 1;",
        "\t}",
        ...banner("", "", JSON.stringify(record.banner)),
        ...record.act.map((l) => `\t${l}`),
      ]
    : [
        "\t/* __ratelimit() gives up (as if over the limit) when another CPU holds its lock: vCPUs writing at once would lose banners. */",
        "\traw_spin_lock_irqsave(&qt_log_lock, flags);",
        "\tlogged = __ratelimit(&qt_log_limit);",
        "\traw_spin_unlock_irqrestore(&qt_log_lock, flags);",
        "\tif (!logged) {",
        "\t\tatomic64_inc(&qt_not_logged);",
        "\t\treturn 0;",
        "\t}",
        "\tnot_logged = atomic64_xchg(&qt_not_logged, 0);",
        "\tif (not_logged)",
        `\t\tsnprintf(note, sizeof(note), " (%lld earlier writes not logged: at most ${LOG_BURST} banners every ${LOG_INTERVAL_S} s)", (long long)not_logged);`,
        ...banner("%s", ", note", JSON.stringify(record.banner)),
        ...record.act.map((l) => `\t${l}`),
      ];
  return {
    name: `action ${action}`,
    requires: record.crashes ? [refuse] : [],
    ...(record.crashes ? {} : { probes: ["end", "error"] }),
    c: [
      "#include <linux/atomic.h>",
      ...(record.crashes ? ["#include <linux/kexec.h>"] : ["#include <linux/ratelimit.h>"]),
      "#include <linux/kernel.h>",
      "#include <linux/printk.h>",
      "#include <linux/sched.h>",
      "#include <linux/string.h>",
      "",
      ...(record.crashes
        ? ["static atomic_t qt_fired;"]
        : [
            `static DEFINE_RATELIMIT_STATE(qt_log_limit, ${LOG_INTERVAL_S} * HZ, ${LOG_BURST});`,
            "static DEFINE_RAW_SPINLOCK(qt_log_lock); /* one caller of __ratelimit() at a time */",
            "static atomic64_t qt_not_logged = ATOMIC64_INIT(0);",
          ]),
      "static char qt_case[256];",
      "",
      "/* 1: the script must disarm. */",
      "static int qt_act(void)",
      "{",
      "\tstruct task_struct *vmm = current->group_leader;",
      ...(record.crashes ? [] : ["\ts64 not_logged;", "\tunsigned long flags;", "\tint logged;", '\tchar note[96] = "";']),
      "",
      ...once,
      ...act,
      "\treturn 0;",
      "}",
    ].join("\n"),
    stap: [
      "function qt_act:long() %{",
      "\tSTAP_RETURN(qt_act());",
      "%}",
      "",
      "function qt_fire() {",
      ...(record.crashes ? ["\tif (qt_act())", '\t\tqt_refuse("qtrip: no crash kernel was loaded at the trip: the host was not crashed; host probe disarmed")'] : ["\tqt_act()"]),
      "}",
      "",
      "function qt_host_arm(case_id:string) %{",
      "\tstrscpy(qt_case, STAP_ARG_case_id, sizeof(qt_case));",
      ...(record.crashes ? [] : ["\t/* The count is said by qtrip itself, not as \"callbacks suppressed\". */", "\tratelimit_set_flags(&qt_log_limit, RATELIMIT_MSG_ON_RELEASE);"]),
      "%}",
      ...(record.crashes
        ? []
        : [
            "",
            "# The writes not logged since the last banner, when the script ends (error: it ended by",
            "# qt_refuse, e.g. the VMM exited, and then SystemTap runs no end probe).",
            "probe end, error {",
            "\tqt_log_not_logged()",
            "}",
            "",
            "function qt_log_not_logged() %{",
            "\ts64 n = atomic64_xchg(&qt_not_logged, 0);",
            "\tif (n)",
            `\t\tprintk(KERN_WARNING "qtrip: %lld writes of the channel byte since the last banner were not logged (at most ${LOG_BURST} banners every ${LOG_INTERVAL_S} s)\\n", (long long)n);`,
            "%}",
          ]),
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
  const script = shellWord(outputName);
  // With the pid file's time, the script refuses a pid that a later process has taken over (a stale pid file).
  const pidFile = shellWord(`/run/libvirt/qemu/${libvirtDomain ?? "DOMAIN"}.pid`);
  // The launcher beside it checks the host first (a locked-down kernel, stap, headers), then runs the stap command below.
  const launcher = `sh ${shellWord(launcherName(outputName))}`;
  if (anyGuest) return [`${launcher}   # checks this host first, then runs:`, `${stap} ${script}   # ANY guest on this host can trip it (--any-guest)`];
  return [
    `${launcher} -x VMM_PID   # checks this host first (a locked-down kernel, stap, headers), then runs:`,
    `${stap} -x VMM_PID ${script}   # VMM_PID: the guest's QEMU process`,
    `${stap} -x $(cat ${pidFile}) -G qt_pidfile_time=$(stat -c %Y ${pidFile}) ${script}   # libvirt${libvirtDomain ? "" : ": DOMAIN is the guest's domain name"}`,
  ];
}

function guestDoc(anyGuest: boolean): string {
  return anyGuest
    ? "Compiled with --any-guest: ANY guest on this hypervisor trips it. Root in any tenant's guest\n" +
        "can crash this host by writing one byte to the port, and a guest whose serial driver writes\n" +
        "that scratch register does it by accident. Use it only on a host that runs nothing else."
    : "Only the chosen guest trips it: its VMM process (-x PID) and that process's vCPU threads.\n" +
        "It refuses to arm without -x, or when PID is not a process with a KVM virtual machine open.\n" +
        "When that process exits (a restarted guest has a new pid) the script stops, saying so; a later\n" +
        "process given the same pid never trips it. With the libvirt command it refuses a stale pid file\n" +
        "(a pid that a process started after the file was written has taken over).";
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
    stock: ["The launcher adds what a stock SystemTap needs: a fixed runtime (-R) on Debian 11/12, -B KCFLAGS=-w on Debian 13."],
    body: [
      `Runs on the hypervisor. When a vCPU writes byte ${value} to port ${port} (one OUT of one byte),\nit logs a banner naming the case and the guest, then acts. Without a compiler there:\n\`qtrip build ${commentText(shellWord(sourceName))} --kernel GUEST_RELEASE --host-kernel HOST_RELEASE\` elsewhere, then the\nstaprun command it prints (\`staprun -L -x QEMU_PID RULE_host.ko\`).`,
      guestDoc(anyGuest),
      actionRecord.doc,
      probeRecord.doc,
      `It logs "qtrip: host probe armed" only once the probe point is live (checked every ${ARMING_CHECK_MS} ms);\n` +
        `while kvm is not loaded it says it is waiting for kvm; if kvm is loaded and the probe point\nis still not live ${ARMING_GRACE_MS} ms later, it stops with a message (staprun exits 1).`,
      actionRecord.crashes
        ? "It refuses to arm unless a crash kernel is loaded (/sys/kernel/kexec_crash_loaded is 1):\nwithout one, a trip would crash the host and leave no dump. Rehearse with --host-action log.\n" +
          "It checks again at the trip: with no crash kernel loaded then (kexec -p -u, a kdump restart),\nit logs why, does not crash the host, and stops (staprun exits 1)."
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
          "\tqt_problem = qt_vmm_problem(target(), qt_pidfile_time)",
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
    ...probeRecord.handler(port, value, anyGuest ? undefined : `pid() == target() && ${IN_CHOSEN_VMM}`),
  ];
  return `${top}\n${lines.join("\n")}\n`;
}
