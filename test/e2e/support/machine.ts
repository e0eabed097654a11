// A build target (test/support/targets.ts) as a machine to boot: that suite's
// kernel and modules, and its chroot, whose staprun and stapio load the modules
// that suite's SystemTap built (the guest harness and the emulated host take it).
import type { GuestMachine } from "../guest/harness.js";
import type { Target } from "../../support/targets.js";

export function targetMachine(t: Target): GuestMachine {
  return { kernel: { release: t.kernelRelease, image: t.kernelImage, modules: t.modules }, staprunRoot: t.root };
}
