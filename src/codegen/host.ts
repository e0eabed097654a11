// The host emitter: the fixed probe that crashes the hypervisor when a guest
// writes the channel byte to the channel port. It depends on the channel, the
// action, the probe point and the case only — never on the rules.
import type { CheckedFile } from "../check/checked.js";
import { header } from "./header.js";
import { REFUSE_C } from "./refuse.js";
import { hex, stapString } from "./stap-syntax.js";

export const HOST_ACTIONS = ["int13", "panic", "log"] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export const HOST_PROBES = ["kvm_fast_pio", "kvm_pio"] as const;
export type HostProbe = (typeof HOST_PROBES)[number];

export const HOST_STAP_OPTIONS = "-g --suppress-handler-errors -DSTP_NO_OVERLOAD -DMAXSKIPPED=1000000";

const ACTION_WORDS: Record<HostAction, string> = {
  int13: "crashing the host with int $13 (kdump)",
  panic: "calling panic() (kdump)",
  log: "rehearsal: logging only",
};

const ACTION_DOC: Record<HostAction, string> = {
  int13:
    "Action int13 (the original's): executes int $13. The host crashes into kdump, but the\n" +
    "crashing CPU's own stack is lost (#GP expects an error code int $13 does not push; the\n" +
    "oops nests until the stack guard page). Other CPUs' stacks are kept.",
  panic:
    "Action panic: calls panic() in the vCPU thread, before KVM returns to user space. The\n" +
    "dump keeps the tripping vCPU thread's clean stack (probe < KVM's port-I/O exit < KVM_RUN).",
  log: "Action log: rehearsal. Logs the banner for every matching write and does nothing else.",
};

const PROBE_DOC: Record<HostProbe, string> = {
  kvm_fast_pio:
    "Probe point: a kprobe on kvm.ko's kvm_fast_pio(vcpu, size, port, in), the path of a single\n" +
    "OUT instruction. Needs only the host kernel's headers. SystemTap 4.8 cannot resolve kvm.ko\n" +
    "symbols on 6.x kernels and silently skips such probes; this script lets the kernel resolve\n" +
    "'kvm:kvm_fast_pio' itself (see the begin probe). kvm must be loaded before the script starts.",
  kvm_pio:
    "Probe point: KVM's kvm_pio tracepoint, which fires for every port I/O of every guest before\n" +
    "in-kernel devices are tried. Needs arch/x86/kvm/trace.h in the host kernel's build tree\n" +
    "(distribution headers usually lack it: copy it from the kernel source).",
};

export interface HostScriptInput {
  file: CheckedFile;
  action: HostAction;
  probe: HostProbe;
  sourceName: string;
  sourceText: string;
  outputName: string;
}

function probeHandler(probe: HostProbe, port: string, value: string): string[] {
  const vmm = "(target() == 0 || pid() == target())";
  if (probe === "kvm_pio") {
    return [
      "# kvm_pio(rw, port, size, count, data): rw 1 is a write (OUT); the byte is read from the",
      "# data the guest wrote. KVM emulates a string write (rep outsb) one byte at a time, with",
      "# count 1 each: one of those that writes the byte trips here too (not at kvm_fast_pio).",
      'probe kernel.trace("kvm_pio") {',
      `\tif ($rw == 1 && $port == ${port} && $size == 1 && $count == 1 && ${vmm}`,
      `\t    && (kernel_char($data) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ];
  }
  return [
    "# kvm_fast_pio(vcpu, size, port, in), arguments in rdi, rsi, rdx, rcx: a single OUT",
    "# (in == 0) of one byte to the channel port; the byte is AL, read from the vCPU's saved RAX.",
    'probe kprobe.module("kvm").function("kvm_fast_pio") {',
    `\tif ((register("rdx") & 0xffff) == ${port} && (register("rsi") & 0xffffffff) == 1`,
    `\t    && (register("rcx") & 0xffffffff) == 0 && ${vmm}`,
    `\t    && (qt_vcpu_rax(register("rdi")) & 0xff) == ${value})`,
    "\t\tqt_fire()",
    "}",
  ];
}

export function emitHost({ file, action, probe, sourceName, sourceText, outputName }: HostScriptInput): string {
  const port = hex(file.channel.port);
  const value = hex(file.channel.value);
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
      `Runs on the hypervisor. When a vCPU writes byte ${value} to port ${port} (one OUT of one byte),\nit logs a banner naming the case and the guest, then acts.`,
      ACTION_DOC[action],
      PROBE_DOC[probe],
      action === "log"
        ? "Rehearsal: it arms without a crash kernel."
        : "It refuses to arm unless a crash kernel is loaded (/sys/kernel/kexec_crash_loaded is 1):\nwithout one, a trip would crash the host and leave no dump. Rehearse with --host-action log.",
    ],
  });
  const lines = [
    "%{",
    "#include <linux/atomic.h>",
    "#include <linux/kexec.h>",
    "#include <linux/kvm_host.h>",
    "#include <linux/panic.h>",
    "#include <linux/printk.h>",
    "#include <linux/sched.h>",
    `#define QT_CHANNEL_PORT ${port}`,
    `#define QT_CHANNEL_VALUE ${value}`,
    `#define QT_ACTION_${action.toUpperCase()} 1`,
    "",
    "static atomic_t qt_fired;",
    "static char qt_case[256];",
    "",
    "static void qt_act(void)",
    "{",
    "	struct task_struct *vmm = current->group_leader;",
    "",
    "#ifndef QT_ACTION_LOG",
    "	/* Several vCPUs may write at once: the first one acts, the others wait for the crash. */",
    "	if (atomic_cmpxchg(&qt_fired, 0, 1) != 0)",
    "		return;",
    "#endif",
    `	printk(KERN_EMERG "qtrip: TRIP case '%s': guest vCPU thread '%s' (tid %d) of VMM '%s' (pid %d) wrote 0x%02x to port 0x%x; %s\\n",`,
    `	       qt_case, current->comm, task_pid_nr(current), vmm->comm, task_tgid_nr(current), QT_CHANNEL_VALUE, QT_CHANNEL_PORT, ${stapStringAsC(ACTION_WORDS[action])});`,
    "#if defined(QT_ACTION_INT13)",
    '	asm volatile("int $13");',
    "#elif defined(QT_ACTION_PANIC)",
    '	panic("qtrip: case \'%s\': guest wrote 0x%02x to port 0x%x", qt_case, QT_CHANNEL_VALUE, QT_CHANNEL_PORT);',
    "#endif",
    "}",
    "%}",
    "",
    "function qt_fire() %{",
    "	qt_act();",
    "%}",
    "",
    "function qt_vcpu_rax:long(vcpu:long) %{",
    "	STAP_RETURN(((struct kvm_vcpu *)(unsigned long)STAP_ARG_vcpu)->arch.regs[VCPU_REGS_RAX]);",
    "%}",
    "",
    ...(action === "log" ? [] : ["function qt_crash_kernel_loaded:long() %{", "	STAP_RETURN(kexec_crash_loaded());", "%}", ""]),
    "function qt_host_arm(case_id:string) %{",
    "	strlcpy(qt_case, STAP_ARG_case_id, sizeof(qt_case));",
    ...(probe === "kvm_fast_pio"
      ? [
          "	/*",
          "	 * SystemTap 4.8 resolves kprobe.module() symbols by walking kallsyms_on_each_symbol(),",
          "	 * which covers only vmlinux on 6.x kernels, and then skips the probe without a word.",
          "	 * Without that walker it hands \"kvm:kvm_fast_pio\" to register_kprobe(), and the kernel",
          "	 * resolves module symbols itself. Begin probes run before kprobes are registered.",
          "	 */",
          "	_stp_kallsyms_on_each_symbol = NULL;",
        ]
      : []),
    "%}",
    "",
    "function qt_log_armed(case_id:string, vmm:long) %{",
    `	printk(KERN_INFO "qtrip: host probe armed: case '%s', port 0x%x byte 0x%02x, action ${action}, probe ${probe}, %s %lld\\n",`,
    '	       STAP_ARG_case_id, QT_CHANNEL_PORT, QT_CHANNEL_VALUE, STAP_ARG_vmm ? "VMM pid" : "all VMMs", (long long)STAP_ARG_vmm);',
    "%}",
    "",
    REFUSE_C,
    "probe begin {",
    ...(action === "log"
      ? []
      : [
          "\tif (!qt_crash_kernel_loaded()) {",
          '\t\tqt_refuse("qtrip: no crash kernel is loaded, so a trip would leave no dump: set up kdump, or rehearse with --host-action log")',
          "\t\tnext",
          "\t}",
        ]),
    `\tqt_host_arm(${stapString(file.caseId ?? "")})`,
    `\tqt_log_armed(${stapString(file.caseId ?? "")}, target())`,
    "}",
    "",
    ...probeHandler(probe, port, value),
  ];
  return `${top}\n${lines.join("\n")}\n`;
}

/** A C string literal of our own fixed text (never rule-file text). */
function stapStringAsC(text: string): string {
  return JSON.stringify(text);
}
