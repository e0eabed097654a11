// The test kernel (package.json config.testKernel, installed by .ci/install):
// its image, which both e2e machines boot, and its modules, taken into an
// initramfs with their dependencies.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kernelRelease } from "../../support/stap.js";
import type { CpioEntry } from "./cpio.js";

export { kernelRelease };

export const kernelImage = `/boot/vmlinuz-${kernelRelease}`;

/** A kernel to boot: its image, and where its modules are (host paths) and go (in the guest). */
export interface BootKernel {
  release: string;
  image: string;
  /** Host directory of its modules (holds modules.dep). */
  modules: string;
}

/** The machine's own test kernel. */
export const TEST_KERNEL: BootKernel = { release: kernelRelease, image: kernelImage, modules: `/lib/modules/${kernelRelease}` };

// Module names take - and _ alike ("kvm-amd" is kvm_amd).
const normal = (n: string) => n.replace(/-/g, "_");

/** Whether the kernel has the module built in (Debian 13's virtio_pci): nothing to load then. */
function builtIn(name: string, modulesDir: string): boolean {
  const path = join(modulesDir, "modules.builtin");
  if (!existsSync(path)) return false;
  return readFileSync(path, "utf8").split("\n").some((l) => normal(l.replace(/^.*\//, "").replace(/\.ko$/, "")) === normal(name));
}

/** A module's file and those of its dependencies, in load order (modules.dep lists dependencies deepest last). */
function moduleFiles(name: string, modulesDir: string): string[] {
  if (builtIn(name, modulesDir)) return [];
  const dep = readFileSync(join(modulesDir, "modules.dep"), "utf8");
  const line = dep.split("\n").find((l) => normal(l.replace(/:.*/, "").replace(/^.*\//, "").replace(/\.ko(\.xz)?$/, "")) === normal(name));
  if (!line) throw new Error(`no module ${name} in ${modulesDir}/modules.dep`);
  const [file, deps] = line.split(":") as [string, string];
  return [...deps.trim().split(/\s+/).filter(Boolean).reverse(), file];
}

/**
 * Modules of the test kernel (e.g. "virtio_blk") with their dependencies, each file once:
 * the archive entries (at their usual paths) and those paths in load order, for insmod
 * (the machines have no modprobe and no modules.dep).
 */
export function kernelModules(names: string[], kernel: BootKernel = TEST_KERNEL): { entries: CpioEntry[]; load: string[] } {
  const files = [...new Set(names.flatMap((n) => moduleFiles(n, kernel.modules)))];
  const inGuest = `/lib/modules/${kernel.release}`;
  // Debian 13 ships modules xz-compressed; busybox's insmod takes them plain.
  const plain = (f: string) => f.replace(/\.xz$/, "");
  const data = (f: string) => (f.endsWith(".xz") ? execFileSync("xz", ["-dc", join(kernel.modules, f)], { maxBuffer: 1 << 28 }) : readFileSync(join(kernel.modules, f)));
  return {
    entries: files.map((f) => ({ path: `${inGuest.slice(1)}/${plain(f)}`, mode: 0o644, data: data(f) })),
    load: files.map((f) => `${inGuest}/${plain(f)}`),
  };
}
