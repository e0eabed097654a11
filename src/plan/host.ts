// The host side of a rule file, for any backend: the channel a guest writes,
// the VMM chosen to watch, what to do on a trip and where to catch it, the case,
// and the longest threshold (how far back a recorder must reach to cover the
// window that led to the trip). Backends (src/codegen/host-backends.ts) turn it
// into their own script.
import { ruleParts, type CheckedFile } from "../check/checked.js";

/** Which guest may trip the host side: one VMM process (its pid given when the script runs), a libvirt domain, or any. */
export type HostVmm = { kind: "pid" } | { kind: "libvirt"; domain: string } | { kind: "any" };

export interface HostPlan {
  channel: { port: number; value: number };
  vmm: HostVmm;
  /** A name from the backend's `actions`. */
  action: string;
  /** A name from the backend's `probes`. */
  probe: string;
  caseId?: string;
  title?: string;
  /** The largest threshold among the rules (given in the file, not as parameters): the window a recorder must cover. */
  thresholdNs?: bigint;
  /** The rule file as the user named it (base name) and its text, for the script's header. */
  source: { name: string; text: string };
  /** `rule.qt` → `rule`: backends add their own suffix. */
  outputBase: string;
}

export interface HostPlanInput {
  action: string;
  probe: string;
  vmm: HostVmm;
  source: { name: string; text: string };
  outputBase: string;
}

export function planHost(file: CheckedFile, input: HostPlanInput): HostPlan {
  const thresholds = ruleParts(file).flatMap((r) => (r.threshold?.nanoseconds.kind === "const" ? [r.threshold.nanoseconds.value] : []));
  const thresholdNs = thresholds.reduce<bigint | undefined>((max, t) => (max === undefined || t > max ? t : max), undefined);
  return {
    channel: { port: file.channel.port, value: file.channel.value },
    vmm: input.vmm,
    action: input.action,
    probe: input.probe,
    ...(file.caseId !== undefined ? { caseId: file.caseId } : {}),
    ...(file.title !== undefined ? { title: file.title } : {}),
    ...(thresholdNs !== undefined ? { thresholdNs } : {}),
    source: input.source,
    outputBase: input.outputBase,
  };
}
