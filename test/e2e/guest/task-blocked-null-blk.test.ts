// `task blocked` with reads that a null_blk disk completes from its own hrtimer
// (irqmode=2) after 1 s. This was a reproduced false trip (issue #23, item 0): busybox
// dd's read tripped a 3 s rule 3 s after it began, after dd had run again and exited.
// No probe hit was skipped: while dd slept, the idle task (pid 0) was switched in, and
// its stop (key 0) matched a free slot and counted it freed, so the table's count of
// slots in use reached 0 and every later stop, dd's wakeup, switch-in and exit, returned
// at once. The control's 4 s completion must still trip, 3 s into the read.
import { expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { bootRules, kernelRelease, markerAt } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const THRESHOLD_MS = 3000;
const RULE = `when task blocked > ${THRESHOLD_MS / 1000}s on comm "dd" as "dd in D state"\n`;
const NULL_BLK = `/lib/modules/${kernelRelease}/kernel/drivers/block/null_blk/null_blk.ko`;

/** null_blk's nullb0, its completions after 1 s, each from the driver's hrtimer; nullb1 (configfs), after 4 s. */
const NULL_BLK_DEVICES = `insmod /null_blk.ko irqmode=2 completion_nsec=1000000000 || echo "qtrip-e2e: insmod null_blk failed"
mount -t configfs configfs /sys/kernel/config
mkdir /sys/kernel/config/nullb/nullb1
echo 2 > /sys/kernel/config/nullb/nullb1/irqmode
echo 4000000000 > /sys/kernel/config/nullb/nullb1/completion_nsec
echo 1 > /sys/kernel/config/nullb/nullb1/power`;
const dd = (device: string, count: number) => `dd if=/dev/${device} of=/dev/null bs=4k count=${count} iflag=direct`;

describeInstalled("qemu", "test-kernel", "stap")("task blocked with null_blk's timer completions in a real guest", { timeout: 300_000 }, () => {
  test("dd's 1 s reads (count=1, count=2) do not trip a 3 s rule; a 4 s read does, 3 s into it", async () => {
    // 0x31: one read; 0x32: two reads; each followed by 3 s: a stale start would trip 3 s after its read began.
    // 0x33: the control, a read of nullb1, which null_blk completes after 4 s.
    const run = await bootRules(RULE, {
      kernelModules: ["configfs"],
      files: { "/null_blk.ko": NULL_BLK },
      session: `${NULL_BLK_DEVICES}
                arm
                mark 0x31
                ${dd("nullb0", 1)}
                sleep 3
                mark 0x32
                ${dd("nullb0", 2)}
                sleep 3
                mark 0x33
                ${dd("nullb1", 1)}
                mark 0x34`,
      timeoutMs: 120_000,
    });
    const at = expectTrip(run, "dd in D state");
    expect(at, `tripped before the control's read; console:\n${run.console}`).toBeGreaterThan(markerAt(run, 0x33));
    const ms = msBetween(markerAt(run, 0x33), at);
    expect(ms).toBeGreaterThanOrEqual(THRESHOLD_MS);
    expect(ms).toBeLessThanOrEqual(THRESHOLD_MS + 500 + SLACK_MS); // busybox's start and its open come first
    expect(run.console).not.toContain("insmod null_blk failed");
  });
});
