// The host side as records: each probe point and each action says what it is
// (for the header and `explain`), what it emits, and what fragments it needs.
import type { Fragment } from "./fragment.js";
import { kprobeArming, tracepointArming, uprobeArming } from "./fragments/host-arming.js";
import { moduleSymbols, noUprobes, oldKprobeRuntime } from "./fragments/kernel-facts.js";

export const HOST_ACTIONS = ["int13", "panic", "log"] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export const HOST_PROBES = ["kvm_fast_pio", "kvm_pio", "qemu"] as const;
export type HostProbe = (typeof HOST_PROBES)[number];

export interface HostActionRecord {
  /** In the banner: "…; <banner>". */
  banner: string;
  /** For `explain`: "the host probe … and <explain>". */
  explain: string;
  /** For the header. */
  doc: string;
  /** Whether it ends the host (and so needs a crash kernel to leave a dump). */
  crashes: boolean;
  /** The C that acts, after the banner. */
  act: string[];
}

/** Rehearsal banners: at most LOG_BURST every LOG_INTERVAL_S seconds, so that a guest looping on the write cannot flood the host's console. */
export const LOG_BURST = 10;
export const LOG_INTERVAL_S = 5;

export const HOST_ACTION_RECORDS: Record<HostAction, HostActionRecord> = {
  int13: {
    banner: "crashing the host with int $13 (kdump)",
    explain: "crashes the host into kdump with int $13 (the crashing CPU's own stack is lost; the others are kept)",
    doc:
      "Action int13 (the original's): executes int $13. The host crashes into kdump, but the\n" +
      "crashing CPU's own stack is lost (#GP expects an error code int $13 does not push; the\n" +
      "oops nests until the stack guard page). Other CPUs' stacks are kept.",
    crashes: true,
    act: ['asm volatile("int $13");'],
  },
  panic: {
    banner: "calling panic() (kdump)",
    explain: "calls panic(), so kdump keeps the tripping vCPU thread's clean stack",
    doc:
      "Action panic: calls panic() in the vCPU thread, before KVM returns to user space. The\n" +
      "dump keeps the tripping vCPU thread's clean stack (probe < KVM's port-I/O exit < KVM_RUN).",
    crashes: true,
    act: ["panic(\"qtrip: case '%s': guest wrote 0x%02x to port 0x%x\", qt_case, QT_CHANNEL_VALUE, QT_CHANNEL_PORT);"],
  },
  log: {
    banner: "rehearsal: logging only",
    explain: "only logs (rehearsal)",
    doc:
      "Action log: rehearsal. Logs the banner for a matching write and does nothing else: at most\n" +
      `${LOG_BURST} banners every ${LOG_INTERVAL_S} s (a guest looping on the write must not flood the console with interrupts\n` +
      "off); the writes not logged are counted, the count said at the next banner and at the end.",
    crashes: false,
    act: [],
  },
};

export interface HostProbeRecord {
  doc: string;
  /** The probe and its handler; it calls qt_fire() on a matching write; `vmm` (when given) limits it to one VMM process. */
  handler: (port: string, value: string, vmm?: string) => string[];
  fragments: Fragment[];
  /** What records whether the probe point is live (see fragments/host-arming.ts). */
  arming: Fragment;
  /** The refusal's words when kvm is loaded and the probe point is not live. */
  notLive: string;
  /** Found through the chosen guest's VMM process (stap -x): it cannot watch any guest. */
  needsChosenGuest: boolean;
}

/** At kvm_fast_pio the byte is still in the vCPU's saved RAX. */
const vcpuRax: Fragment = {
  name: "vCPU registers",
  c: "#include <linux/kvm_host.h>",
  stap: String.raw`function qt_vcpu_rax:long(vcpu:long) %{
	STAP_RETURN(((struct kvm_vcpu *)(unsigned long)STAP_ARG_vcpu)->arch.regs[VCPU_REGS_RAX]);
%}`,
};

const and = (vmm?: string) => (vmm ? ` && ${vmm}` : "");

export const HOST_PROBE_RECORDS: Record<HostProbe, HostProbeRecord> = {
  kvm_fast_pio: {
    doc:
      "Probe point: a kprobe on kvm.ko's kvm_fast_pio(vcpu, size, port, in), the path of a single\n" +
      "OUT instruction. Needs only the host kernel's headers. SystemTap 4.8 cannot resolve kvm.ko\n" +
      "symbols on 6.x kernels and silently skips such probes; this script lets the kernel resolve\n" +
      "'kvm:kvm_fast_pio' itself (see the begin probe). Loaded before kvm, it waits for kvm and\n" +
      "arms when kvm loads.",
    handler: (port, value, vmm) => [
      "# kvm_fast_pio(vcpu, size, port, in), arguments in rdi, rsi, rdx, rcx: a single OUT",
      "# (in == 0) of one byte to the channel port; the byte is AL, read from the vCPU's saved RAX.",
      'probe kprobe.module("kvm").function("kvm_fast_pio") {',
      `\tif ((register("rdx") & 0xffff) == ${port} && (register("rsi") & 0xffffffff) == 1`,
      `\t    && (register("rcx") & 0xffffffff) == 0${and(vmm)}`,
      `\t    && (qt_vcpu_rax(register("rdi")) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ],
    fragments: [noUprobes, oldKprobeRuntime, moduleSymbols, vcpuRax],
    arming: kprobeArming,
    notLive: "kprobe kvm:kvm_fast_pio: the function is missing or inlined on this kernel; try --host-probe kvm_pio",
    needsChosenGuest: false,
  },
  kvm_pio: {
    doc:
      "Probe point: KVM's kvm_pio tracepoint, which fires for every port I/O of every guest before\n" +
      "in-kernel devices are tried. Needs arch/x86/kvm/trace.h in the host kernel's build tree\n" +
      "(distribution headers usually lack it: copy it from the kernel source); built without it,\n" +
      "the script refuses to arm once kvm is loaded. Loaded before kvm, it waits for kvm.",
    handler: (port, value, vmm) => [
      "# kvm_pio(rw, port, size, count, data): rw 1 is a write (OUT); the byte is read from the",
      "# data the guest wrote. KVM emulates a string write (rep outsb) one byte at a time, with",
      "# count 1 each: one of those that writes the byte trips here too (not at kvm_fast_pio).",
      "# Optional: built where KVM's trace header is missing, the arming watch refuses at run time.",
      'probe kernel.trace("kvm_pio") ? {',
      `\tif ($rw == 1 && $port == ${port} && $size == 1 && $count == 1${and(vmm)}`,
      `\t    && (kernel_char($data) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ],
    fragments: [noUprobes],
    arming: tracepointArming("kvm_pio"),
    notLive:
      "tracepoint kvm_pio: not attached; a script built without arch/x86/kvm/trace.h in the kernel build tree has no such probe: add the header and build it again, or use --host-probe kvm_fast_pio",
    needsChosenGuest: false,
  },
  qemu: {
    doc:
      "Probe point: the original post's, a uprobe in QEMU's kvm_arch_post_run(cpu, run), which QEMU\n" +
      "calls after every KVM_RUN returns: an I/O exit (KVM_EXIT_IO) out of one byte to the port.\n" +
      "For hosts where kvm.ko cannot be probed. It needs QEMU's debug information (stap finds QEMU\n" +
      "through -x VMM_PID, so build the script where the VMM runs), and it fires later than the\n" +
      "kernel probe points: after the exit has reached user space, in QEMU's vCPU thread.",
    handler: (port, value, vmm) => [
      "# kvm_arch_post_run(cpu, run): after every KVM_RUN; exit_reason 2 is KVM_EXIT_IO, direction 1",
      "# is out; the byte is in the kvm_run page at data_offset. Found in the -x process's executable.",
      'probe process.function("kvm_arch_post_run") {',
      `\tif ($run->exit_reason == 2 && $run->io->port == ${port} && $run->io->direction == 1`,
      `\t    && $run->io->size == 1 && $run->io->count == 1${and(vmm)}`,
      `\t    && (user_char($run + $run->io->data_offset) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ],
    fragments: [],
    arming: uprobeArming,
    notLive: "uprobe on QEMU's kvm_arch_post_run: not registered in the VMM process's executable",
    needsChosenGuest: true,
  },
};
