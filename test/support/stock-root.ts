// A stock-like root of a build target (.ci/targets), to run the guest launcher natively in a
// chroot as a stock Debian guest runs it: the target's chroot as hard links, without what
// .ci/targets added for the other tests (the real System.map in the build tree and in
// /usr/lib/debug/boot, KVM's trace header, their SystemTap caches) — what .ci/stock removes —
// plus what a booted guest has and a chroot lacks: a /proc/kallsyms (a file made from the real
// System.map, its addresses moved as KASLR moves them, and a few module symbols) and a `uname`
// that prints the target's release. Kept by the target's key, with the chroot's own SystemTap
// cache, so later runs build warm. Hard links share inodes with the target: this code only
// creates, renames and deletes files in the copy, never writes into one it did not create.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChroot, type ChrootRun } from "./chroot.js";
import type { Target } from "./targets.js";

export const stockRootsDir = process.env.QTRIP_STOCK_ROOTS ?? "/var/cache/qtrip/stock-roots";

const RECIPE = 2; // bump when the way a root is made changes

/**
 * The host path of the target's stock-like root, made on first use (seconds: hard links). Each
 * `use` has its own copy, SystemTap cache and ~/.cache, so test files running at once never
 * share one (the launcher's first runtime copy is not made for two at a time).
 */
export function stockRoot(t: Target, use: string): string {
  const dir = join(stockRootsDir, `${t.suite}-${use}-${t.key}-${RECIPE}`);
  const root = join(dir, "root");
  if (existsSync(join(dir, "ready"))) return root;
  mkdirSync(stockRootsDir, { recursive: true });
  for (const old of readdirSync(stockRootsDir).filter((n) => n.startsWith(`${t.suite}-${use}-`))) rmSync(join(stockRootsDir, old), { recursive: true, force: true });
  mkdirSync(dir);
  const copy = spawnSync("cp", ["-al", t.root, root], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`cp -al ${t.root} ${root}: ${copy.stderr}`);
  for (const added of [t.systemMap, t.kvmTraceHeader, "/usr/lib/debug/boot", "/root/.systemtap", "/root/.cache", t.stapCache]) {
    rmSync(join(root, added), { recursive: true, force: true });
  }
  for (const name of readdirSync(join(root, "var/cache")).filter((n) => n.startsWith("qtrip-"))) rmSync(join(root, "var/cache", name), { recursive: true, force: true });
  for (const name of readdirSync(join(root, "tmp"))) rmSync(join(root, "tmp", name), { recursive: true, force: true });
  const uname = `#!/bin/sh\n# qtrip test: the release of the kernel this root would boot\ncase "$1" in -r) echo '${t.kernelRelease}' ;; *) exec /bin/uname "$@" ;; esac\n`;
  replaceFile(join(root, "usr/local/bin/uname"), uname, 0o755);
  // SystemTap hashes its own binary into every cache key, as readlink("/proc/self/exe") names it
  // (hash.cxx, get_base_hash): without /proc that is "/proc/self/exe", size -1, and no key made
  // here would be the guest's. A link in the chroot's /proc (not mounted) names it as the guest does.
  mkdirSync(join(root, "proc/self"), { recursive: true });
  symlinkSync("/usr/bin/stap", join(root, "proc/self/exe"));
  writeFileSync(join(dir, "ready"), `${t.suite} ${t.key}\n`);
  return root;
}

/** Writes a file as a new inode (never through a hard link the target shares). */
export function replaceFile(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(`${path}.new`, text, { mode });
  renameSync(`${path}.new`, path);
}

/**
 * /proc/kallsyms as the target's kernel would show it to root: the System.map's symbols moved by
 * `shift` (KASLR moves the kernel by a multiple of 2 MiB), then module symbols, which carry a
 * fourth field. With `shift` "hidden", every address is 0, as kernel.kptr_restrict=2 shows them.
 */
export function kallsymsOf(t: Target, shift: bigint | "hidden"): string {
  const map = readFileSync(join(t.root, t.systemMap), "utf8");
  const mask = (1n << 64n) - 1n;
  const at = (address: bigint) => (shift === "hidden" ? 0n : (address + shift) & mask).toString(16).padStart(16, "0");
  const lines = map
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [address, type, name] = line.split(/\s+/);
      return `${at(BigInt(`0x${address}`))} ${type} ${name}`;
    });
  const modules = [
    ["ext4_sync_file", "ext4"],
    ["ext4_file_open", "ext4"],
    ["jbd2_journal_start", "jbd2"],
  ].map(([name, module], i) => `${at(0xffffffffc0000000n + BigInt(i * 0x100))} t ${name}\t[${module}]`);
  return [...lines, ...modules, ""].join("\n");
}

export type { ChrootRun as RootRun } from "./chroot.js";

/** Runs a command inside the root, as root, with a clean environment (HOME=/root). */
export function runInRoot(root: string, command: string[], timeoutMs: number): Promise<ChrootRun> {
  const env = ["HOME=/root", "LC_ALL=C", "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
  return runChroot(root, ["/usr/bin/env", "-i", "-C", "/root", ...env, ...command], timeoutMs);
}
