// What a build needs from the build machine, found as stap finds it: the stap
// program on PATH and its runtime, and a kernel's build tree
// (/lib/modules/RELEASE/build) with its headers and symbol table. Each missing
// piece is a BuildError that says what is missing and how to get it.
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { BuildError } from "./errors.js";

/** Where the machine keeps kernels' trees and maps (tests point these at fake trees). */
export interface MachineRoots {
  modules: string;
  boot: string;
}

export const SYSTEM_ROOTS: MachineRoots = { modules: "/lib/modules", boot: "/boot" };

export interface Stap {
  /** The stap program on PATH. */
  program: string;
  /** The runtime it uses unless told otherwise ($SYSTEMTAP_RUNTIME, else PREFIX/share/systemtap/runtime). */
  runtime: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findStap(env: NodeJS.ProcessEnv = process.env): Stap {
  const program = (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, "stap"))
    .find(isExecutable);
  if (!program) throw new BuildError("SystemTap is not installed: no 'stap' on PATH (Debian, Ubuntu: apt install systemtap; RHEL, Fedora: dnf install systemtap)");
  const runtime = env.SYSTEMTAP_RUNTIME || join(dirname(dirname(realpathSync(program))), "share/systemtap/runtime");
  if (!existsSync(join(runtime, "runtime.h"))) throw new BuildError(`SystemTap's runtime is not in ${runtime} (reinstall systemtap, or set SYSTEMTAP_RUNTIME)`);
  return { program, runtime };
}

/** A release is one directory name under /lib/modules: `6.1.0-50-amd64`. */
export function checkRelease(release: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(release) ? undefined : `'${release}' is not a kernel release (like 6.1.0-50-amd64, as uname -r prints it)`;
}

export interface KernelTree {
  release: string;
  /** /lib/modules/RELEASE/build, as stap -r RELEASE reads it. */
  build: string;
  /** Reads `linux/x.h` from the tree's include directories (Debian's headers split in -amd64 and -common). */
  header(path: string): string | undefined;
}

/** Debian's build tree has a Makefile that includes the common tree's: `include /usr/src/linux-headers-…-common/Makefile`. */
function includedTrees(build: string): string[] {
  const makefile = join(build, "Makefile");
  if (!existsSync(makefile)) return [];
  return [...readFileSync(makefile, "utf8").matchAll(/^include\s+(\/\S+)\/Makefile\s*$/gm)].map((m) => m[1]!);
}

export function kernelTree(release: string, roots: MachineRoots = SYSTEM_ROOTS): KernelTree {
  const build = join(roots.modules, release, "build");
  if (!existsSync(join(build, "Makefile"))) {
    throw new BuildError(
      `no headers for kernel ${release}: ${build} ${existsSync(build) ? "has no Makefile" : "does not exist"} (Debian, Ubuntu: apt install linux-headers-${release}; RHEL, Fedora: dnf install kernel-devel-${release})`,
    );
  }
  const trees = [build, ...includedTrees(build), join(roots.modules, release, "source")];
  return {
    release,
    build,
    header(path) {
      for (const tree of trees) {
        const file = join(tree, "include", path);
        if (existsSync(file)) return readFileSync(file, "utf8");
      }
      return undefined;
    },
  };
}

/** Fewer lines than this is a stub: Debian's /boot/System.map is one line saying where the real one is. */
const REAL_MAP_LINES = 1000;

/**
 * kprobe.function() on the kernel needs the kernel's symbol table when stap
 * builds for another release: it reads BUILD/System.map, else
 * /boot/System.map-RELEASE. Throws when the one it would read is missing or a stub.
 */
export function requireSystemMap(tree: KernelTree, roots: MachineRoots = SYSTEM_ROOTS): string {
  const candidates = [join(tree.build, "System.map"), join(roots.boot, `System.map-${tree.release}`)];
  const map = candidates.find((file) => existsSync(file));
  const lines = map ? readFileSync(map, "utf8").split("\n").filter(Boolean).length : 0;
  if (map && lines >= REAL_MAP_LINES) return map;
  const found = map ? `${map} is a stub (${lines} line${lines === 1 ? "" : "s"})` : `neither ${candidates.join(" nor ")} exists`;
  throw new BuildError(
    `this rule's kprobe probes need kernel ${tree.release}'s symbol table and ${found}: ` +
      `copy the real map to ${candidates[0]} (Debian: from the linux-image-${tree.release}-dbg package, file /usr/lib/debug/boot/System.map-${tree.release}; ` +
      `or the guest's own /proc/kallsyms, read as root)`,
  );
}
