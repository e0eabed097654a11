// Dynamically linked programs of this machine for an initramfs: each program
// with the shared libraries ldd names for it.
import { execFileSync } from "node:child_process";
import { basename, join } from "node:path";
import { fileEntry, type CpioEntry } from "./cpio.js";

export interface Program {
  /** The program's file here. */
  file: string;
  /** Its path in the archive. */
  at: string;
}

/**
 * Archive entries for the programs and their libraries, each library once, in the
 * loader's standard directories (where it looks anyway, wherever ldd found it).
 * `libraryPath` is LD_LIBRARY_PATH for ldd: where libraries not installed here are
 * (kexec's, unpacked from their packages). With `root`, the programs are those of
 * another system's tree (a build target's chroot: paths are inside it), and ldd
 * runs there, so that they come with that system's own libraries.
 */
export function withLibraries(programs: Program[], libraryPath?: string, root?: string): CpioEntry[] {
  const env = libraryPath ? { ...process.env, LD_LIBRARY_PATH: libraryPath } : process.env;
  // Inside another tree a path may be an absolute symlink (bullseye's /lib64/ld-linux-x86-64.so.2): resolve it there.
  const here = (path: string) => (root ? join(root, execFileSync("chroot", [root, "readlink", "-f", path], { encoding: "utf8" }).trim()) : path);
  const libraries = new Map<string, string>();
  for (const { file } of programs) {
    const ldd = root ? execFileSync("chroot", [root, "ldd", file], { encoding: "utf8" }) : execFileSync("ldd", [file], { encoding: "utf8", env });
    for (const [, lib] of ldd.matchAll(/(\/\S+) \(0x/g)) {
      libraries.set(`${lib!.startsWith("/lib64/") ? "lib64" : "lib/x86_64-linux-gnu"}/${basename(lib!)}`, here(lib!));
    }
  }
  return [
    ...programs.map(({ file, at }) => fileEntry(at, here(file), 0o755)),
    ...[...libraries].map(([at, file]) => fileEntry(at, file, 0o755)),
  ];
}
