// The dump as a distribution saves it: in the capture kernel, Debian's
// makedumpfile writes compressed, filtered dumps onto an ext4 disk of the
// emulated host (a raw file here, formatted here), which the test reads back
// with debugfs (no mount) and opens with Debian's crash and drgn.
//
// Two filter levels (makedumpfile -d, a mask of what to leave out: 1 zero pages,
// 2 and 4 page cache, 8 user pages, 16 free pages):
//   31  everything but kernel memory: Debian's kdump-tools default, the small one;
//   23  keeps user pages (31 - 8): the VMM's, so the guest's memory, which is QEMU's
//       anonymous user memory, survives in the dump.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../../support/stap.js";
import { cpioArchive, directoryEntries, fileEntry, textEntry, type CpioEntry } from "../../support/cpio.js";
import { kernelModules } from "../../support/kernel.js";
import { withLibraries } from "../../support/libraries.js";

/** Disks, dumps and unpacked packages of this process (about 250 MB a boot): see removeDumps. */
const work = mkdtempSync(join(tmpdir(), "qtrip-chain-"));

/** Removes every disk and dump this process made (a test file's afterAll: vitest's workers may end without "exit"). */
export function removeDumps(): void {
  rmSync(work, { recursive: true, force: true });
}

/** A fresh directory under this process's work directory. */
function workDir(name: string): string {
  mkdirSync(work, { recursive: true });
  return mkdtempSync(join(work, name));
}

/** makedumpfile's filter levels, in the order the capture kernel writes them. */
export const DUMP_LEVELS = [31, 23] as const;
export type DumpLevel = (typeof DUMP_LEVELS)[number];

/** What .ci/chain prepares: makedumpfile's packages (unpacked here, never installed) and the debug vmlinux. */
const makedumpfileDebs = join(repoRoot, ".cache/makedumpfile-debs");
const vmlinuxLink = join(repoRoot, ".cache/vmlinux-dbg");

/** The test kernel's debug vmlinux (from its -dbg package, extracted by .ci/chain). */
export function debugVmlinux(): string {
  if (!existsSync(vmlinuxLink)) throw new Error(`no debug vmlinux at ${vmlinuxLink}: run bash .ci/chain`);
  return realpathSync(vmlinuxLink);
}

function unpackMakedumpfile(work: string): string {
  const debs = existsSync(makedumpfileDebs) ? readdirSync(makedumpfileDebs).filter((f) => f.endsWith(".deb")) : [];
  if (!debs.some((f) => f.startsWith("makedumpfile_"))) throw new Error(`no makedumpfile package in ${makedumpfileDebs}: run bash .ci/chain`);
  const root = join(work, "makedumpfile");
  for (const deb of debs) execFileSync("dpkg", ["-x", join(makedumpfileDebs, deb), root]);
  return root;
}

// The capture kernel's init: the crashed kernel's log (makedumpfile --dump-dmesg), then one dump per level.
const captureInit = (modules: string[], levels: readonly DumpLevel[]) => String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
say() { echo "@@ $*" > /dev/kmsg; }
report() { while IFS= read -r line; do echo "@@ $1: $line" > /dev/kmsg; done; }
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
say "capture kernel up: /proc/vmcore $([ -e /proc/vmcore ] && echo present || echo missing) uptime_ms=$(uptime_ms)"
for m in ${modules.join(" ")}; do insmod $m 2>/dev/null || say "insmod $m failed"; done
for i in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
mkdir -p /mnt; mount -t ext4 /dev/vda /mnt; say "dump disk mounted rc=$?"
makedumpfile --dump-dmesg /proc/vmcore /tmp/dmesg.txt > /tmp/dmesg.out 2>&1
say "vmcore-dmesg rc=$?"
report dump < /tmp/dmesg.txt
for level in ${levels.join(" ")}; do
  start=$(uptime_ms)
  makedumpfile -c -d $level /proc/vmcore /mnt/vmcore-d$level > /tmp/makedumpfile.out 2>&1
  rc=$?
  say "makedumpfile -c -d $level rc=$rc bytes=$(stat -c %s /mnt/vmcore-d$level 2>/dev/null || echo 0) ms=$(($(uptime_ms) - start))"
  [ $rc = 0 ] || report makedumpfile < /tmp/makedumpfile.out
done
umount /mnt; say "dump disk unmounted rc=$?"
poweroff -f
`;

/**
 * The capture initramfs, as archive entries that replace the emulated host's own
 * /boot/capture.cpio (the per-boot archive is unpacked after the shared one).
 */
export function captureEntries(levels: readonly DumpLevel[] = DUMP_LEVELS): CpioEntry[] {
  const root = unpackMakedumpfile(workDir("capture-"));
  const modules = kernelModules(["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]);
  const capture = cpioArchive([
    ...directoryEntries(["proc", "sys", "dev", "tmp"]),
    fileEntry("bin/busybox", "/usr/bin/busybox", 0o755),
    ...withLibraries([{ file: join(root, "usr/bin/makedumpfile"), at: "usr/bin/makedumpfile" }], join(root, "usr/lib/x86_64-linux-gnu") + ":" + join(root, "lib/x86_64-linux-gnu")),
    ...modules.entries,
    textEntry("init", captureInit(modules.load, levels), 0o755),
  ]);
  return [{ path: "boot/capture.cpio", mode: 0o644, data: capture }];
}

export interface DumpDisk {
  file: string;
  /** The QEMU -drive value (virtio: the emulated host's and its capture kernel's /dev/vda). */
  drive: string;
}

/** An empty ext4 disk of `mib` MiB for the dumps (sparse). */
export function dumpDisk(mib = 2048): DumpDisk {
  const file = join(workDir("disk-"), "dump.raw");
  writeFileSync(file, "");
  truncateSync(file, mib * 1024 * 1024);
  execFileSync("mkfs.ext4", ["-q", "-F", "-L", "qtrip-dump", file]);
  return { file, drive: `file=${file},if=virtio,format=raw` };
}

/** Copies the dump of a level out of the disk (debugfs: no mount here); undefined if the capture kernel wrote none. */
export function readDump(disk: DumpDisk, level: DumpLevel): string | undefined {
  const out = join(workDir("vmcore-"), `vmcore-d${level}`);
  execFileSync("debugfs", ["-R", `dump -p /vmcore-d${level} ${out}`, disk.file], { stdio: "ignore" });
  return existsSync(out) && statSync(out).size > 0 ? out : undefined;
}
