// The SystemTap backend: a plan → the guest script; the host plan → the host probe (through the registry: stapHost).
export { emitGuest } from "./guest.js";
export { stapHost } from "./host-backend.js";
export { emitLauncher, launcherName, type LauncherInput } from "./launcher.js";
export { HOST_ACTION_RECORDS, HOST_ACTIONS, HOST_PROBE_RECORDS, HOST_PROBES, type HostAction, type HostProbe } from "./host-records.js";
export { SUPPORTED_KERNELS, type KernelRange } from "./kernel.js";
export { GUEST_STAP_OPTIONS, HOST_STAP_OPTIONS } from "./options.js";
export { probePoints } from "./probe-points.js";
export { stapGuest } from "./guest-backend.js";
