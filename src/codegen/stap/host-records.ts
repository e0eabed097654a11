// The host side as records: each probe point and each action says what it is
// (for the header and `explain`), what it emits, and what runtime it needs.
import type { Fragment } from "./fragment.js";
import { moduleSymbols, oldKprobeRuntime } from "./runtime/kernel-facts.js";

export const HOST_ACTIONS = ["int13", "panic", "log"] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export const HOST_PROBES = ["kvm_fast_pio", "kvm_pio"] as const;
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
    doc: "Action log: rehearsal. Logs the banner for every matching write and does nothing else.",
    crashes: false,
    act: [],
  },
};

export interface HostProbeRecord {
  doc: string;
  /** The probe and its handler; it calls qt_fire() on a matching write. */
  handler: (port: string, value: string, vmm: string) => string[];
  fragments: Fragment[];
}

/** At kvm_fast_pio the byte is still in the vCPU's saved RAX. */
const vcpuRax: Fragment = {
  name: "vCPU registers",
  c: "#include <linux/kvm_host.h>",
  stap: String.raw`function qt_vcpu_rax:long(vcpu:long) %{
	STAP_RETURN(((struct kvm_vcpu *)(unsigned long)STAP_ARG_vcpu)->arch.regs[VCPU_REGS_RAX]);
%}`,
};

export const HOST_PROBE_RECORDS: Record<HostProbe, HostProbeRecord> = {
  kvm_fast_pio: {
    doc:
      "Probe point: a kprobe on kvm.ko's kvm_fast_pio(vcpu, size, port, in), the path of a single\n" +
      "OUT instruction. Needs only the host kernel's headers. SystemTap 4.8 cannot resolve kvm.ko\n" +
      "symbols on 6.x kernels and silently skips such probes; this script lets the kernel resolve\n" +
      "'kvm:kvm_fast_pio' itself (see the begin probe). kvm must be loaded before the script starts.",
    handler: (port, value, vmm) => [
      "# kvm_fast_pio(vcpu, size, port, in), arguments in rdi, rsi, rdx, rcx: a single OUT",
      "# (in == 0) of one byte to the channel port; the byte is AL, read from the vCPU's saved RAX.",
      'probe kprobe.module("kvm").function("kvm_fast_pio") {',
      `\tif ((register("rdx") & 0xffff) == ${port} && (register("rsi") & 0xffffffff) == 1`,
      `\t    && (register("rcx") & 0xffffffff) == 0 && ${vmm}`,
      `\t    && (qt_vcpu_rax(register("rdi")) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ],
    fragments: [oldKprobeRuntime, moduleSymbols, vcpuRax],
  },
  kvm_pio: {
    doc:
      "Probe point: KVM's kvm_pio tracepoint, which fires for every port I/O of every guest before\n" +
      "in-kernel devices are tried. Needs arch/x86/kvm/trace.h in the host kernel's build tree\n" +
      "(distribution headers usually lack it: copy it from the kernel source).",
    handler: (port, value, vmm) => [
      "# kvm_pio(rw, port, size, count, data): rw 1 is a write (OUT); the byte is read from the",
      "# data the guest wrote. KVM emulates a string write (rep outsb) one byte at a time, with",
      "# count 1 each: one of those that writes the byte trips here too (not at kvm_fast_pio).",
      'probe kernel.trace("kvm_pio") {',
      `\tif ($rw == 1 && $port == ${port} && $size == 1 && $count == 1 && ${vmm}`,
      `\t    && (kernel_char($data) & 0xff) == ${value})`,
      "\t\tqt_fire()",
      "}",
    ],
    fragments: [],
  },
};
