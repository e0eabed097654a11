// `syscall openat error ENOENT ... N times within D` in a real guest: qt-trigger's
// open:PATHxN makes N openat(2) calls, each after its marker.
import { test } from "vitest";
import { expectTrip } from "./expect-trip.js";
import { bootRules } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = 'when syscall openat error ENOENT on comm "opener" 5 times within 2s as "missing files"\n';

describeInstalled("qemu", "test-kernel", "stap")("syscall openat error ENOENT in a real guest", { timeout: 180_000 }, () => {
  test("five failed opens within 2 s trip at the fifth", async () => {
    const run = await bootRules(RULE, {
      session: `spawn t comm:opener open:/missingx5 nanosleep:500
                arm
                run t`,
    });
    expectTrip(run, "missing files", { marker: 5, minMs: 0, maxMs: 20 });
  });

  test("fewer failures, other errors, another comm and an expired window do not trip; then five do", async () => {
    // First another task (comm qt-trigger) fails with ENOENT 10 times. Then the watched
    // one's calls: 4 ENOENT (1-4), 20 ENOTDIR (5-24: /init is a file), 10 successes (25-34),
    // a 2.5 s sleep (35) that ages the first four out of the window, then 5 ENOENT (36-40).
    // Regression: the generated test counted before it checked the comm, so the other task's
    // failures filled the window and call 1 tripped.
    const run = await bootRules(RULE, {
      session: `spawn other base:0x80 open:/missingx10
                spawn t comm:opener open:/missingx4 open:/init/xx20 open:/initx10 nanosleep:2500 open:/missingx5
                arm
                run other
                run t`,
    });
    expectTrip(run, "missing files", { marker: 40, minMs: 0, maxMs: 20 });
  });

  test("a read interrupted by a signal and restarted (-ERESTARTSYS inside the kernel) is no error; then a failed open is", async () => {
    // restart:400 (1): the read returns -ERESTARTSYS at sys_exit when SIGALRM comes at 200 ms,
    // and the kernel restarts it (SA_RESTART); then an openat fails with ENOENT (2).
    const run = await bootRules('when syscall error on comm "reader" as "failed call"\n', {
      session: `spawn t comm:reader restart:400 open:/missing
                arm
                run t`,
    });
    expectTrip(run, "failed call", { marker: 2, minMs: 0, maxMs: 20 });
  });
});

