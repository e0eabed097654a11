// `function` rules wherever the guest kernel has the function, as the language reference promises:
// in a module (ext4 and loop are modules on Debian), by MODULE:NAME or by its plain name, and in a
// module built into the image (af_unix, module name "unix", is built into Debian's kernels). At build
// time SystemTap knows only the image's symbols; qtrip's runtime (runtime/function-places.ts)
// places each probe as it registers, and says at load what it could not place. These runs show the
// probes the guest kernel registered (its kprobes list), what the script said, and the trip.
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
const DISKS = ["crc32c_generic", "virtio_pci", "virtio_blk"];
const MODULES = [...DISKS, "ext4"];

const MOUNT = `mkdir -p /mnt/fast /mnt/slow
          mount -t ext4 /dev/vda /mnt/fast
          mount -t ext4 /dev/vdb /mnt/slow`;
/** The kprobes the kernel registered, on the console. */
const KPROBES = "sed 's/^/qtrip-e2e: kprobe: /' /sys/kernel/debug/kprobes/list";

/** Mounts both disks, then (with $MODULE armed) shows the kprobes the kernel registered. */
function session(steps: string): string {
  return `${MOUNT}
          spawn t ${steps}
          arm
          ${KPROBES}
          run t`;
}

/** A kprobe ("k") or a kretprobe ("r") the guest kernel lists on `name`, in `module` or in the image. */
function registered(kind: "k" | "r", name: string, module?: string): RegExp {
  return new RegExp(`qtrip-e2e: kprobe: [0-9a-f]+ +${kind} +${name}\\+0x0${module ? ` +${module} ` : " *(\\[|$)"}`, "m");
}

/** The kprobe and the kretprobe on ext4's function, as the guest kernel lists them. */
function expectModuleProbesRegistered(run: GuestRun): void {
  expect(run.console).toMatch(registered("k", "ext4_sync_file", "ext4"));
  expect(run.console).toMatch(registered("r", "ext4_sync_file", "ext4"));
}

describeInstalled("qemu", "test-kernel", "stap")("function latency of a module's function in a real guest", { timeout: 180_000 }, () => {
  test("MODULE:NAME armed before its module loads: said at load, probed once it loads, trips 200 ms into a slow fsync", async () => {
    const run = await bootRules(RULE, {
      kernelModules: DISKS,
      laterModules: ["ext4"],
      drives: DRIVES(),
      session: `spawn t fsync:/mnt/slow/f
          arm
          load_later
          ${MOUNT}
          ${KPROBES}
          run t`,
    });
    expect(run.console).toContain(
      'qtrip: function "ext4:ext4_sync_file": no loaded module ext4 has it, nor the kernel image: its rules cannot trip until ext4 is loaded',
    );
    expectModuleProbesRegistered(run);
    expectTrip(run, "slow fsync", atThreshold(1));
  });

  test("a plain name finds a module's function (loop's worker, which no table names) and says what is nowhere", async () => {
    // Calls 1-5: fsyncs of a loop device over a file on vda; 6: over a file on vdb, whose flush
    // (loop's worker fsyncs the file) takes over a second. The worker is a kernel thread.
    const rules = [
      `when function "loop_process_work" latency > ${THRESHOLD_MS}ms as "slow loop request"`,
      'when function "ext4_sync_file" latency > 1m as "very slow fsync"',
      'when function "qt_function_nowhere" latency > 1s as "nowhere"',
    ];
    const run = await bootRules(`${rules.join("\n")}\n`, {
      kernelModules: [...MODULES, "loop"],
      drives: DRIVES(),
      session: `${MOUNT}
          truncate -s 1M /mnt/fast/backing /mnt/slow/backing
          losetup /dev/loop0 /mnt/fast/backing
          losetup /dev/loop1 /mnt/slow/backing
          spawn t fsync:/dev/loop0x5 fsync:/dev/loop1
          arm
          ${KPROBES}
          run t`,
    });
    expect(run.console).toMatch(registered("k", "loop_process_work", "loop"));
    expect(run.console).toMatch(registered("r", "loop_process_work", "loop"));
    expectModuleProbesRegistered(run);
    expect(run.console).toContain(
      'qtrip: function "qt_function_nowhere" is in neither the kernel image nor a loaded module: its rules cannot trip (load its module, then this script)',
    );
    expectTrip(run, "slow loop request", atThreshold(6));
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

  test("MODULE:NAME of a module built into the image (unix): said at load, probed there; short reads do not trip, a long one does", async () => {
    // Calls 1-5: socket reads given up after 20 ms; 6: after 400 ms.
    const rule = `when function "unix:unix_stream_recvmsg" latency > ${THRESHOLD_MS}ms as "slow socket read"\n`;
    const run = await bootRules(rule, { session: `spawn t sockread:20x5 sockread:400\n          arm\n          ${KPROBES}\n          run t` });
    expect(run.console).toContain(
      'qtrip: function "unix:unix_stream_recvmsg": no loaded module unix has it, the kernel image does (unix is built in): probed there',
    );
    expect(run.console).toMatch(registered("k", "unix_stream_recvmsg"));
    expect(run.console).toMatch(registered("r", "unix_stream_recvmsg"));
    expectTrip(run, "slow socket read", atThreshold(6));
  });
});
