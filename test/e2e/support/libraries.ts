// Dynamically linked programs of this machine for an initramfs: each program
// with the shared libraries ldd names for it.
import { execFileSync } from "node:child_process";
import { basename } from "node:path";
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
 * (kexec's, unpacked from their packages).
 */
export function withLibraries(programs: Program[], libraryPath?: string): CpioEntry[] {
  const env = libraryPath ? { ...process.env, LD_LIBRARY_PATH: libraryPath } : process.env;
  const libraries = new Map<string, string>();
  for (const { file } of programs) {
    for (const [, lib] of execFileSync("ldd", [file], { encoding: "utf8", env }).matchAll(/(\/\S+) \(0x/g)) {
      libraries.set(`${lib!.startsWith("/lib64/") ? "lib64" : "lib/x86_64-linux-gnu"}/${basename(lib!)}`, lib!);
    }
  }
  return [
    ...programs.map(({ file, at }) => fileEntry(at, file, 0o755)),
    ...[...libraries].map(([at, file]) => fileEntry(at, file, 0o755)),
  ];
}
