// The SystemTap guest backend as the registry sees it (src/codegen/guest-backend.ts):
// the guest script, its launcher, and the probe
// points a script uses.
import type { GuestBackend } from "../guest-backend.js";
import { emitGuest } from "./guest.js";
import { SUPPORTED_KERNELS } from "./kernel.js";
import { emitLauncher, launcherName, probesKernelFunctions } from "./launcher.js";
import { probePoints } from "./probe-points.js";

export const stapGuest: GuestBackend = {
  name: "stap",
  kernels: SUPPORTED_KERNELS,
  emit: emitGuest,
  launcher: ({ script, scriptName, sourceName }) => ({
    name: launcherName(scriptName),
    text: emitLauncher({ scriptName, sourceName, kernelKprobes: probesKernelFunctions(script) }),
  }),
  probePoints,
};
