// The ftrace host backend: a POSIX shell script that needs nothing but tracefs,
// for hosts that refuse a compiler, a kernel module or a crash.
import type { HostBackend } from "../host-backends.js";
import { FTRACE_ACTION_RECORDS, FTRACE_ACTIONS, type FtraceAction } from "./actions.js";
import { emitFtraceScript, ftraceKernels, ftraceScriptName } from "./script.js";

export const ftraceHost: HostBackend = {
  name: "ftrace",
  actions: FTRACE_ACTIONS,
  crashActions: [],
  probes: ["kvm_pio"],
  kernels: ftraceKernels,
  outputName: ftraceScriptName,
  usageProblem: ({ vmm }) =>
    vmm.kind === "any"
      ? "--host-backend ftrace --any-guest: the ftrace backend watches one guest's VMM (-x PID or --libvirt-domain when the script runs); --any-guest is the stap backend's"
      : undefined,
  emit: emitFtraceScript,
  explain: (plan) => [
    `The host script (ftrace: a shell script over tracefs, in its own instance; no compiler, no module) sees that write at KVM's kvm_pio event, in the vCPU thread before KVM resumes the guest, ` +
      `only from the chosen guest (its VMM process, given with -x PID or --libvirt-domain when the script runs, and that process's vCPU threads, re-read every second), ` +
      `and ${FTRACE_ACTION_RECORDS[plan.action as FtraceAction].explain}.`,
    "When it ends (after the last trip, on INT, TERM or HUP, or when the VMM exits) it removes its instance, triggers and events: nothing is left in tracefs.",
  ],
};
