// The BPF host backend as the registry sees it: a POSIX sh script that loads a
// BPF program at kvm_fast_pio which calls crash_kexec() on the channel write.
// No compiler and no module on the hypervisor (docs/host-bpf.md).
import type { HostBackend } from "../host-backends.js";
import { loaderProblem } from "./loader.js";
import { bpfScriptName, emitBpfHost } from "./script.js";

export const bpfHost: HostBackend = {
  name: "bpf",
  actions: ["panic"],
  crashActions: ["panic"],
  probes: ["kvm_fast_pio"],
  kernels: ">= 6.1 with BTF",
  outputName: bpfScriptName,
  usageProblem: () => loaderProblem(),
  emit: emitBpfHost,
  explain: ({ vmm }) => [
    `The host script (sh, as root) loads a BPF program at KVM's kvm_fast_pio, the path of every plain OUT, that sees that write ${
      vmm.kind === "any" ? "from ANY guest on the hypervisor" : vmm.kind === "libvirt" ? `from libvirt domain ${vmm.domain}'s VMM process only` : "from the chosen guest's VMM process only (-x PID)"
    } and calls the kernel's crash_kexec() in the vCPU thread: the host crashes into kdump before KVM returns. It needs Linux >= 6.1 with BTF and a loaded crash kernel; it refuses to arm without one, and if the crash kernel is gone at the trip it does not crash, says so and ends. No compiler and no kernel module; nothing is left on the host when it ends.`,
  ],
};
