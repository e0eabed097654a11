// A guest paused by its hypervisor (SIGSTOP of QEMU here; a snapshot or a live migration's
// stop-and-copy alike) keeps its clocks running: everything in flight ages by the pause at once.
// qtrip counts that as the stall the guest saw (issue #13, item 8): a call that took 300 ms of
// work and 1 s of pause took 1.3 s as the guest's own clock saw it, and trips at the resume.
import { expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { bootRules, pauseAfter } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

describeInstalled("qemu", "test-kernel", "stap")("a guest pause in a real guest", { timeout: 180_000 }, () => {
  test("a 300 ms sleep paused for 1 s trips a 200 ms syscall latency rule as the guest resumes", async () => {
    let resumed = 0;
    const run = await bootRules('when syscall nanosleep latency > 200ms as "slow sleep"\n', {
      session: `spawn t nanosleep:100x3 nanosleep:300
                arm
                run t`,
      control: async (guest) => {
        resumed = await pauseAfter(guest, 4, 50, 1000);
      },
    });
    // Calls 1-3 (100 ms) do not trip; call 4 is paused 50 ms in, before its 200 ms were up.
    const at = expectTrip(run, "slow sleep", { marker: 4, minMs: 1000, maxMs: 1500 });
    expect(msBetween(resumed, at)).toBeGreaterThanOrEqual(-50); // `resumed`: when QMP's reply to `cont` arrived, after the vCPU runs again
    expect(msBetween(resumed, at)).toBeLessThanOrEqual(SLACK_MS);
  });
});
