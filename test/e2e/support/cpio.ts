// A minimal writer of "newc" cpio archives, the initramfs format: enough for
// directories and regular files, so files are taken from anywhere on the host
// without staging a tree. The kernel unpacks concatenated archives in order, so
// a machine's initramfs is a shared base archive followed by a small one per boot.
import { readFileSync } from "node:fs";

export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  path: string;
  mode: number;
  directory?: boolean;
  data?: Buffer;
}

/** A file of this machine at `path` in the archive. */
export function fileEntry(path: string, file: string, mode = 0o644): CpioEntry {
  return { path, mode, data: readFileSync(file) };
}

/** A text file at `path` in the archive. */
export function textEntry(path: string, text: string, mode = 0o644): CpioEntry {
  return { path, mode, data: Buffer.from(text) };
}

/** Empty directories (mount points), mode 0755. */
export function directoryEntries(paths: string[]): CpioEntry[] {
  return paths.map((path) => ({ path, mode: 0o755, directory: true }));
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function member(ino: number, path: string, mode: number, data: Buffer): Buffer[] {
  const name = Buffer.from(`${path}\0`);
  // c_magic, then 13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
  const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`);
  return [header, name, pad4(header.length + name.length), data, pad4(data.length)];
}

/** The directories above a path, outermost first: `a/b/c` → `a`, `a/b`. */
function parents(path: string): string[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** An archive of the entries; the kernel does not create missing parent directories, so this adds them first. */
export function cpioArchive(entries: CpioEntry[]): Buffer {
  const listed = new Set(entries.filter((e) => e.directory).map((e) => e.path));
  const implied = [...new Set(entries.flatMap((e) => parents(e.path)))].filter((d) => !listed.has(d));
  const all: CpioEntry[] = [...implied.map((path) => ({ path, mode: 0o755, directory: true })), ...entries];
  const parts = all.flatMap((e, i) =>
    member(i + 1, e.path, (e.directory ? S_IFDIR : S_IFREG) | e.mode, e.data ?? Buffer.alloc(0)),
  );
  return Buffer.concat([...parts, ...member(0, "TRAILER!!!", 0, Buffer.alloc(0))]);
}
