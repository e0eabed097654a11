// A real VMM for the emulated hypervisor: this machine's Debian QEMU, copied
// into the emulated host's initramfs with its libraries and the firmware a
// -kernel boot needs, run there with KVM (nested: the emulated host's KVM runs
// on TCG's emulated AMD SVM). Its guest is the test kernel again, with a busybox
// initramfs that loads a guest module qtrip generated and runs qt-trigger.
//
// The guest's console is the VMM's stdio: the emulated host's shell copies each
// line into its own kernel log ("@@ l2: …"), so the host's console and its dump
// both hold the guest's story, stamped by the host's clock as it arrived and by
// the guest's own clock inside the line.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { repoRoot } from "../../../support/stap.js";
import { cpioArchive, directoryEntries, fileEntry, textEntry, type CpioEntry } from "../../support/cpio.js";
import { kernelImage } from "../../support/kernel.js";
import { withLibraries } from "../../support/libraries.js";

/** Firmware of a -kernel boot of QEMU's pc machine (SeaBIOS, the Linux loader ROM, KVM's vAPIC ROM). */
const FIRMWARE = ["/usr/share/seabios/bios-256k.bin", "/usr/share/qemu/linuxboot_dma.bin", "/usr/share/qemu/kvmvapic.bin"];

/** Where the VMM's firmware is in the emulated host (QEMU's -L). */
const FIRMWARE_DIR = "usr/share/qtrip-vmm";

/** QEMU, its libraries and its firmware, for the emulated host's initramfs. */
export function vmmEntries(): CpioEntry[] {
  return [
    ...withLibraries([{ file: "/usr/bin/qemu-system-x86_64", at: "usr/bin/qemu-system-x86_64" }]),
    ...FIRMWARE.map((f) => fileEntry(`${FIRMWARE_DIR}/${f.replace(/^.*\//, "")}`, f)),
  ];
}

/** What the guest runs once the host says "go": qt-trigger's steps (the module is armed on its pid), or shell lines. */
export type GuestWorkload = { trigger: string } | { shell: string };

/** The guest's init: arms the guest module, waits for the host's "go" on its console, then runs the workload. */
function guestInit(module: string, workload: GuestWorkload): string {
  const trigger = "trigger" in workload;
  return String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug
# Every record on the console: qt-trigger's "call N starts" (debug level) and the module's lines.
dmesg -n 8
${trigger ? `mkfifo /tmp/go\nqt-trigger markers:0 wait:/tmp/go kmsg:1 ${workload.trigger} &\npid=$!\nargs=pid=$pid` : "args="}
if staprun -L /lib/qtrip/${module}.ko $args; then echo "qtrip-l2: armed $args"; else echo "qtrip-l2: staprun failed rc=$?"; fi
read go < /dev/ttyS0
echo "qtrip-l2: go"
${trigger ? "echo > /tmp/go\nwait $pid" : `${workload.shell}\nsleep 10`}
echo "qtrip-l2: done"
poweroff -f
`;
}

/** qt-trigger (test/e2e/guest/programs), static. */
function buildTrigger(): string {
  const out = join(mkdtempSync(join(tmpdir(), "qtrip-vmm-")), "qt-trigger");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Werror", "-o", out, join(repoRoot, "test/e2e/guest/programs/qt-trigger.c")]);
  return out;
}

/**
 * The guest's files in the emulated host: its kernel image and its initramfs
 * (busybox, staprun and stapio with their libraries, qt-trigger, the guest module,
 * an init that runs the workload), under /lib/qtrip/l2.
 */
export function guestEntries(guestModule: string, workload: GuestWorkload): CpioEntry[] {
  const name = basename(guestModule, ".ko"); // staprun names the module after its file
  const initramfs = cpioArchive([
    ...directoryEntries(["proc", "sys", "dev", "tmp"]),
    fileEntry("bin/busybox", "/usr/bin/busybox", 0o755),
    ...withLibraries([
      { file: "/usr/bin/staprun", at: "usr/bin/staprun" },
      { file: "/usr/lib/systemtap/stapio", at: "usr/lib/systemtap/stapio" },
    ]),
    fileEntry("bin/qt-trigger", buildTrigger(), 0o755),
    fileEntry(`lib/qtrip/${name}.ko`, guestModule),
    textEntry("init", guestInit(name, workload), 0o755),
  ]);
  return [fileEntry("lib/qtrip/l2/vmlinuz", kernelImage), { path: "lib/qtrip/l2/initrd.cpio", mode: 0o644, data: initramfs }];
}

/** Memory of the VMM's guest, MiB. */
export const GUEST_MEMORY_MB = 256;

/**
 * Shell functions for the emulated host's scenario (after shellLibrary):
 *   start_vmm          starts QEMU with KVM on the guest; VMM is its pid; its console goes to the log as "@@ l2: LINE"
 *                      (VMM_EXTRA: more QEMU options; L2_APPEND: more of the guest's command line)
 *   release_guest      sends the guest its "go" (a line on its console's input)
 */
export const vmmShell = String.raw`
start_vmm() {
  mkfifo /tmp/l2.in /tmp/l2.out
  tr -d '\r' < /tmp/l2.out | report l2 &
  qemu-system-x86_64 -accel kvm -cpu host -m ${GUEST_MEMORY_MB} -smp 1 -name qtrip-l2,debug-threads=on -nodefaults -display none -no-reboot \
    -L /${FIRMWARE_DIR} -kernel /lib/qtrip/l2/vmlinuz -initrd /lib/qtrip/l2/initrd.cpio \
    -append "console=ttyS0 printk.devkmsg=on panic=1 $L2_APPEND" -serial stdio $VMM_EXTRA < /tmp/l2.in > /tmp/l2.out 2>&1 &
  VMM=$!
  exec 3> /tmp/l2.in
  say "vmm pid $VMM"
}
release_guest() { echo go >&3; }
`;
