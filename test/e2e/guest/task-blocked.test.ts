// `task blocked > D` in a real guest: an O_DIRECT read (qt-trigger dread:DEV) from a
// virtio disk that QEMU throttles to one request a second sleeps in D state (the
// block layer's io_schedule) for about a second; a nanosleep sleeps as long in S state
// (interruptible), which is not "blocked".
import { expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { bootRules, lastMarkerBeforeTrip, markerAt, trips, virtioDisk } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const THRESHOLD_MS = 500;
const RULE = `when task blocked > ${THRESHOLD_MS}ms on comm "reader" as "reader in D state"\n`;
const VIRTIO = ["virtio_pci", "virtio_blk"];

/** vda: unthrottled; vdb: one request a second. */
const DRIVES = [virtioDisk({ mib: 1 }), virtioDisk({ mib: 1, throttling: "iops-total=1" })];


describeInstalled("qemu", "test-kernel", "stap")("task blocked in a real guest", { timeout: 240_000 }, () => {
  test("a reader blocked on a throttled disk trips 500 ms into the read; a long nanosleep, fast reads and another task's blocked reads do not", async () => {
    // The bystander's reads of vdb (markers 0x41, 0x42) block it about a second each, in D state, but it is not "reader".
    // Then the reader sleeps 1.5 s (marker 1), reads vda 20 times (2-21), then vdb three times
    // (calls 22-24, marked 0x80 + the call's number).
    const run = await bootRules(RULE, {
      kernelModules: VIRTIO,
      drives: DRIVES,
      session: `spawn b comm:bystander base:0x40 dread:/dev/vdbx2
                spawn t comm:reader nanosleep:1500 dread:/dev/vdax20 base:0x80 dread:/dev/vdbx3
                arm
                run b
                run t`,
    });
    expectTrip(run, "reader in D state");
    const read = lastMarkerBeforeTrip(run);
    expect(read).toBeGreaterThanOrEqual(0x80 + 22);
    expect(read).toBeLessThanOrEqual(0x80 + 24);
    // The nanosleep (marker 1) and the bystander's reads came first and did not trip.
    expect(markerAt(run, 1)).toBeGreaterThan(markerAt(run, 0x42));
    const blocked = msBetween(markerAt(run, read), trips(run)[0]!.us);
    expect(blocked).toBeGreaterThanOrEqual(THRESHOLD_MS);
    expect(blocked).toBeLessThanOrEqual(THRESHOLD_MS + SLACK_MS);
  });
});
