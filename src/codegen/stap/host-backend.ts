// The SystemTap host backend as the registry sees it: a guru-mode script that
// crashes the host (int13, panic) or logs, built with stap on the hypervisor or
// elsewhere (`qtrip build --host-kernel`).
import type { HostBackend } from "../host-backends.js";
import { emitHost, hostScriptName } from "./host.js";
import { HOST_ACTION_RECORDS, HOST_ACTIONS, HOST_PROBE_RECORDS, HOST_PROBES, type HostAction, type HostProbe } from "./host-records.js";
import { SUPPORTED_KERNELS } from "./kernel.js";
import { emitLauncher, launcherName, probesKernelFunctions } from "./launcher.js";

export const stapHost: HostBackend = {
  name: "stap",
  actions: HOST_ACTIONS,
  crashActions: HOST_ACTIONS.filter((a) => HOST_ACTION_RECORDS[a].crashes),
  probes: HOST_PROBES,
  kernels: `>= ${SUPPORTED_KERNELS.min}`,
  outputName: hostScriptName,
  usageProblem: ({ probe, vmm }) =>
    vmm.kind === "any" && HOST_PROBE_RECORDS[probe as HostProbe].needsChosenGuest
      ? `--host-probe ${probe} finds QEMU through the chosen guest's VMM process (stap -x PID): it cannot be combined with --any-guest`
      : undefined,
  emit: emitHost,
  // rule.host.sh: says before anything is built what this host lacks (a locked-down kernel first), then runs stap.
  companion: (plan, script) => {
    const scriptName = hostScriptName(plan.outputBase);
    return {
      name: launcherName(scriptName),
      text: emitLauncher({ scriptName, sourceName: plan.source.name, role: "host", kernelKprobes: probesKernelFunctions(script) }),
      mode: 0o755,
    };
  },
  explain: ({ action, probe, vmm }) => [
    `The host probe (${probe}) sees that write ${probe === "qemu" ? "in QEMU, once the exit has reached user space" : "in KVM"}, ${
      vmm.kind === "any"
        ? "from ANY guest on the hypervisor (--any-guest)"
        : "only from the chosen guest (its VMM process, given with stap -x PID, and that process's vCPU threads)"
    }, logs a banner naming the case and the guest, and ${HOST_ACTION_RECORDS[action as HostAction].explain}.`,
  ],
};
