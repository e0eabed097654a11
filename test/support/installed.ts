// What .ci/install makes, and the reason a test skips when it is missing: a
// clone without the install gets "skipped: needs …" instead of a boot or a
// stap build failing with an unrelated message. Paths can be pointed elsewhere
// (QTRIP_CACHE for the machine's cache, QTRIP_STAP_RUNTIME for the runtime
// copy), which is how test/architecture/tiers.test.ts shows a skip.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe } from "vitest";
import { kernelRelease, repoRoot, stapRuntimePath } from "./stap.js";

/** The machine's cache that .ci/install fills (QEMU build, targets, stock images…). */
export const machineCache = () => process.env.QTRIP_CACHE ?? "/var/cache/qtrip";

const onPath = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
const INSTALL = "bash .ci/install";

/** Each thing a test may need: undefined when present, else what is missing and what makes it. */
const CHECKS = {
  /** QEMU to boot guests and the emulated host (Debian's qemu-system-x86). */
  qemu: () => (onPath("qemu-system-x86_64") ? undefined : `qemu-system-x86_64 is not on PATH (${INSTALL} installs qemu-system-x86)`),
  /** The test kernel (package.json config.testKernel): its image, modules and headers. */
  "test-kernel": () => {
    const missing = [`/boot/vmlinuz-${kernelRelease}`, `/lib/modules/${kernelRelease}/modules.dep`, `/lib/modules/${kernelRelease}/build`].filter((p) => !existsSync(p));
    return missing.length ? `the test kernel ${kernelRelease} is not installed: ${missing.join(", ")} absent (${INSTALL})` : undefined;
  },
  /** SystemTap and the patched runtime copy (.cache/stap-runtime). */
  stap: () => {
    if (!onPath("stap")) return `stap is not on PATH (${INSTALL} installs systemtap)`;
    const runtime = stapRuntimePath();
    return existsSync(join(runtime, "runtime.h")) ? undefined : `no SystemTap runtime copy at ${runtime} (${INSTALL} makes it and links .cache/stap-runtime to it)`;
  },
  /** The QEMU with debug information for --host-probe qemu (test/e2e/host/programs/build-qemu.sh). */
  "qemu-debug": () => {
    const cache = machineCache();
    const built = existsSync(cache) && readdirSync(cache).some((d) => d.startsWith("qemu-") && existsSync(join(cache, d, "qemu-system-x86_64")));
    return built ? undefined : `no QEMU with debug information in ${cache}/qemu-VERSION-KEY (${INSTALL} runs test/e2e/host/programs/build-qemu.sh)`;
  },
  /** The full chain's dump readers: crash, drgn and the test kernel's debug vmlinux (.ci/chain). */
  debuggers: () => {
    const missing = [...["crash", "drgn"].filter((t) => !onPath(t)), ...[".cache/vmlinux-dbg", ".cache/makedumpfile-debs"].filter((p) => !existsSync(join(repoRoot, p)))];
    return missing.length ? `${missing.join(", ")} missing (${INSTALL} runs .ci/chain)` : undefined;
  },
};

export type Need = keyof typeof CHECKS;

/** Why a test that needs these cannot run here, or undefined when all are installed. */
export function needsInstalled(...needs: Need[]): string | undefined {
  const missing = needs.map((need) => CHECKS[need]()).filter((m) => m !== undefined);
  return missing.length ? `needs what .ci/install makes: ${missing.join("; ")}` : undefined;
}

/**
 * `describe`, or when something is missing a `describe.skip` whose title gives the reason
 * (vitest prints a skipped suite's title; it has no other place for a note). Takes the
 * forms the test files use: describe(…), .each(…)(…), .skipIf(…)(…).
 */
export function describeInstalled(...needs: Need[]): typeof describe {
  const reason = needsInstalled(...needs);
  if (reason === undefined) return describe;
  const titled = (name: unknown) => `${String(name)} [skipped: ${reason}]`;
  const skip = describe.skip as unknown as (...args: unknown[]) => void;
  const wrapped = Object.assign((name: unknown, ...rest: unknown[]) => skip(titled(name), ...rest), {
    each:
      (cases: unknown) =>
      (name: unknown, ...rest: unknown[]) =>
        (describe.skip.each as unknown as (c: unknown) => (...args: unknown[]) => void)(cases)(titled(name), ...rest),
    skipIf: () => wrapped,
  });
  return wrapped as unknown as typeof describe;
}
