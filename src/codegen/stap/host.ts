// The host emitter: the fixed probe that crashes the hypervisor when a guest
// writes the channel byte to the channel port. It depends on the channel, the
// action, the probe point and the case only — never on the rules.
import type { CheckedFile } from "../../check/checked.js";
import { emitFragments, type Fragment } from "./fragment.js";
import { header } from "./header.js";
import { HOST_ACTION_RECORDS, HOST_PROBE_RECORDS, type HostAction, type HostProbe } from "./host-records.js";
import { HOST_STAP_OPTIONS } from "./options.js";
import { moduleSymbols } from "./runtime/kernel-facts.js";
import { refuse } from "./runtime/refuse.js";
import { commentText, hex, stapString } from "./syntax.js";

export interface HostScriptInput {
  file: CheckedFile;
  action: HostAction;
  probe: HostProbe;
  sourceName: string;
  sourceText: string;
  outputName: string;
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

export function emitHost({ file, action, probe, sourceName, sourceText, outputName }: HostScriptInput): string {
  const port = hex(file.channel.port);
  const value = hex(file.channel.value);
  const actionRecord = HOST_ACTION_RECORDS[action];
  const probeRecord = HOST_PROBE_RECORDS[probe];
  const fragments = [actFragment(action), ...probeRecord.fragments, ...(actionRecord.crashes ? [crashKernel] : [])];
  const caseId = stapString(file.caseId ?? "");
  const top = header({
    sourceName,
    sourceText,
    file,
    role: `qtrip host probe: action ${action}, probe point ${probe}`,
    run: [
      `stap ${HOST_STAP_OPTIONS} ${outputName}               # any guest`,
      `stap ${HOST_STAP_OPTIONS} -x QEMU_PID ${outputName}   # one guest's VMM process only`,
    ],
    body: [
      `Runs on the hypervisor. When a vCPU writes byte ${value} to port ${port} (one OUT of one byte),\nit logs a banner naming the case and the guest, then acts. Without a compiler there:\n\`qtrip build ${commentText(sourceName)} --kernel GUEST_RELEASE --host-kernel HOST_RELEASE\` elsewhere, then the\nstaprun command it prints (\`staprun -L -x QEMU_PID RULE_host.ko\`).`,
      actionRecord.doc,
      probeRecord.doc,
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
    String.raw`function qt_log_armed(case_id:string, vmm:long) %{`,
    String.raw`	printk(KERN_INFO "qtrip: host probe armed: case '%s', port 0x%x byte 0x%02x, action ${action}, probe ${probe}, %s %lld\n",`,
    '\t       STAP_ARG_case_id, QT_CHANNEL_PORT, QT_CHANNEL_VALUE, STAP_ARG_vmm ? "VMM pid" : "all VMMs", (long long)STAP_ARG_vmm);',
    "%}",
    "",
    "probe begin {",
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
    `\tqt_log_armed(${caseId}, target())`,
    "}",
    "",
    ...probeRecord.handler(port, value, "(target() == 0 || pid() == target())"),
  ];
  return `${top}\n${lines.join("\n")}\n`;
}
