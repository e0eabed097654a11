// `function "MODULE:NAME" latency > D` in a real guest, on ext4's fsync (ext4 is a module on
// Debian). stap 4.8 resolves kprobe.module() symbols through kallsyms_on_each_symbol(), which
// sees only vmlinux on 6.1, and drops the probe silently; qtrip's begin probe removes that
// walker so the kernel resolves "ext4:ext4_sync_file" itself. These runs prove the probe is
// registered (the guest's kprobes list) and fires (the trip).
//
// Two ext4 disks made on the host: vda as fast as emulation goes, vdb throttled by QEMU to
// five write requests a second, so an fsync there (data, journal, commit: about 8 requests)
// takes over a second.
import { expect, test } from "vitest";
import { atThreshold, expectTrip, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, virtioDisk, type GuestRun } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `when function "ext4:ext4_sync_file" latency > ${THRESHOLD_MS}ms as "slow fsync"\n`;

/** vda, then vdb: fresh 16 MiB ext4 disks. */
const DRIVES = () => [virtioDisk({ mib: 16, ext4: true }), virtioDisk({ mib: 16, ext4: true, throttling: "iops-write=5" })];

/** crc32c_generic first: ext4 and jbd2 ask the crypto API for crc32c, and the guest has no modprobe. */
const MODULES = ["crc32c_generic", "virtio_pci", "virtio_blk", "ext4"];

/** Mounts both disks, then (with $MODULE armed) shows the kprobes the kernel registered. */
function session(steps: string): string {
  return `mkdir -p /mnt/fast /mnt/slow
          mount -t ext4 /dev/vda /mnt/fast
          mount -t ext4 /dev/vdb /mnt/slow
          spawn t ${steps}
          arm
          sed 's/^/qtrip-e2e: kprobe: /' /sys/kernel/debug/kprobes/list
          run t`;
}

/** The kprobe and the kretprobe on ext4's function, as the guest kernel lists them. */
function expectModuleProbesRegistered(run: GuestRun): void {
  expect(run.console).toMatch(/qtrip-e2e: kprobe: [0-9a-f]+ +k +ext4_sync_file\+0x0 +ext4 /);
  expect(run.console).toMatch(/qtrip-e2e: kprobe: [0-9a-f]+ +r +ext4_sync_file\+0x0 +ext4 /);
}

describeInstalled("qemu", "test-kernel", "stap")("function latency of a module's function in a real guest", { timeout: 180_000 }, () => {
  test("trips 200 ms into an fsync on the throttled disk", async () => {
    const run = await bootRules(RULE, { kernelModules: MODULES, drives: DRIVES(), session: session("fsync:/mnt/slow/f") });
    expectModuleProbesRegistered(run);
    expectTrip(run, "slow fsync", atThreshold(1));
  });

  test("a plain function name, as the language reference writes it, finds ext4's function in its module", async () => {
    const plain = `when function "ext4_sync_file" latency > ${THRESHOLD_MS}ms as "slow fsync"\n`;
    const run = await bootRules(plain, { kernelModules: MODULES, drives: DRIVES(), session: session("fsync:/mnt/slow/f") });
    expectModuleProbesRegistered(run);
    expectTrip(run, "slow fsync", atThreshold(1));
  });

  test("fast fsyncs and a slow call of another function do not trip; then a slow fsync does", async () => {
    // Calls 1-20: fsyncs on vda; 21: a 400 ms nanosleep; 22: an fsync on vdb.
    const run = await bootRules(RULE, {
      kernelModules: MODULES,
      drives: DRIVES(),
      session: session("fsync:/mnt/fast/fx20 nanosleep:400 fsync:/mnt/slow/f"),
    });
    expectModuleProbesRegistered(run);
    expectTrip(run, "slow fsync", atThreshold(22));
  });
});
