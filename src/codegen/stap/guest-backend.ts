// The SystemTap guest backend as the registry sees it (src/codegen/guest-backend.ts):
// every capability a plan may need, the guest script, its launcher, and the probe
// points a script uses.
import type { GuestBackend } from "../guest-backend.js";
import { CAPABILITIES, type Capability } from "../../plan/plan.js";
import { emitGuest } from "./guest.js";
import { SUPPORTED_KERNELS } from "./kernel.js";
import { emitLauncher, launcherName, probesKernelFunctions } from "./launcher.js";
import { probePoints } from "./probe-points.js";

export const stapGuest: GuestBackend = {
  name: "stap",
  // Its runtime (fragments/) has a fragment for each.
  capabilities: new Set(Object.keys(CAPABILITIES) as Capability[]),
  kernels: SUPPORTED_KERNELS,
  emit: emitGuest,
  launcher: ({ script, scriptName, sourceName }) => ({
    name: launcherName(scriptName),
    text: emitLauncher({ scriptName, sourceName, kernelKprobes: probesKernelFunctions(script) }),
  }),
  probePoints,
};
