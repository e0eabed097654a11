// `syscall latency` in a real guest. Each scenario boots the test kernel under
// QEMU, loads the generated module, runs qt-trigger and asserts on what QEMU
// saw: whether, and when, the channel byte was written, relative to the
// markers qt-trigger writes just before each blocking call (call k writes k).
//
// Scenarios that must not trip end with a slow call that must: that proves the
// script was armed and working during the quiet part, so its silence means
// something, and the single trip must then come at the right moment.
import { expect, test } from "vitest";
import { expectOneTripAfterCall, msBetween, SLACK_MS, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, consoleTextAt, markerAt, PHASE, trips, type GuestRun } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

/** Every rule here watches the workload's pid, given when the module is loaded (`arm pid=...`). */
function boot(condition: string, session: string, smp = 1): Promise<GuestRun> {
  return bootRules(`param pid: int\nwhen syscall ${condition}\n`, { session, smp });
}

describeInstalled("qemu", "test-kernel", "stap")("syscall latency > 200ms in a real guest", { timeout: 180_000 }, () => {
  test("trips about 200 ms into a call blocked for 5 s, once, with its label", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid as "slow call"`,
      `spawn t nanosleep:5000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 1);
    expect(run.console).toContain("qtrip: tripped: slow call: writing 0x1f to port 0x3ff");
  });

  test("trips the same on a guest with 2 vCPUs", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid`,
      `echo "qtrip-e2e: $(grep -c ^processor /proc/cpuinfo) cpus"
       spawn t nanosleep:1000
       arm pid=$pid_t
       run t`,
      2,
    );
    expect(run.console).toContain("qtrip-e2e: 2 cpus");
    expectOneTripAfterCall(run, 1);
  });

  test("does not trip on 40 calls of 50 ms; then trips on a slow one", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid`,
      `spawn t nanosleep:50x40 nanosleep:1000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 41);
  });

  test("does not trip on a slow call of another pid; then trips on the watched one", async () => {
    // t blocks for 3 s; d, the watched pid, makes fast calls for 1 s, then a slow one (marker 0x41).
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid`,
      `spawn t nanosleep:3000
       spawn d getppid:1000 base:0x40 nanosleep:1000
       arm pid=$pid_d
       run t d`,
    );
    expectOneTripAfterCall(run, 0x41);
    // t's call was past the threshold well before the watched call started.
    expect(msBetween(markerAt(run, 1), markerAt(run, 0x41))).toBeGreaterThan(THRESHOLD_MS + SLACK_MS);
  });

  test("3 times within 10s: two slow calls do not trip; the third does", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid 3 times within 10s`,
      `spawn t nanosleep:300x2 nanosleep:50x10 nanosleep:1000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 13);
  });

  test("3 times within 1s: slow calls spread over more than 1 s do not trip; three close together do", async () => {
    // Each slow call (300 ms) is late from 200 ms on. Calls 1, 22 and 43 are over 1 s
    // apart (20 × 50 ms between them); 43, 44 and 45 are late within 0.6 s.
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid 3 times within 1s`,
      `spawn t nanosleep:300 nanosleep:50x20 nanosleep:300 nanosleep:50x20 nanosleep:300x2 nanosleep:1000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 45);
  });

  test("after 3s: a slow call inside the delay does not trip; one after it does", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid after 3s`,
      `spawn t nanosleep:1000 nanosleep:100x25 nanosleep:1000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 27);
    expect(msBetween(markerAt(run, PHASE.armed), markerAt(run, 27))).toBeGreaterThanOrEqual(3000);
  });

  test("after 3s: a call blocked across the end of the delay trips when the delay ends", async () => {
    const run = await boot(
      `latency > ${THRESHOLD_MS}ms on pid $pid after 3s`,
      `spawn t nanosleep:6000
       arm pid=$pid_t
       run t`,
    );
    const seen = trips(run);
    expect(seen, run.console).toHaveLength(1);
    // The delay counts from the begin probe, which logs "armed" as it ends.
    const armed = consoleTextAt(run, "qtrip: armed");
    expect(armed, run.console).toBeDefined();
    expect(msBetween(armed!, seen[0]!.us)).toBeGreaterThanOrEqual(3000 - SLACK_MS);
    expect(msBetween(armed!, seen[0]!.us)).toBeLessThanOrEqual(3000 + SLACK_MS);
  });

  test("two rules keep their own names, filters and thresholds; the one that holds trips with its label", async () => {
    // The read (600 ms) is under the read rule's 1 s and not a nanosleep; the nanosleep
    // rule watches by task name.
    const rules = `param pid: int
      when syscall read latency > 1s on pid $pid as "slow read"
      when syscall nanosleep latency > ${THRESHOLD_MS}ms on comm "qt-trigger" as "slow sleep"
    `;
    const run = await bootRules(rules, {
      session: `spawn t read:600 nanosleep:1000
                arm pid=$pid_t
                run t`,
    });
    expectOneTripAfterCall(run, 2);
    expect(run.console).toContain("qtrip: tripped: slow sleep");
  });

  test("a rule on nanosleep ignores a slow read and a slow clock_nanosleep; then trips on nanosleep", async () => {
    const run = await boot(
      `nanosleep latency > ${THRESHOLD_MS}ms on pid $pid`,
      `spawn t read:3000 clock_nanosleep:1000 nanosleep:1000
       arm pid=$pid_t
       run t`,
    );
    expectOneTripAfterCall(run, 3);
  });

  test("a thread that execs, not the group leader, leaves no call behind; then a slow call trips", async () => {
    // The second thread's execve starts under its own tid and returns under the process's
    // pid (the thread takes the leader's); the new image sleeps 100 ms three times (1-3), then 1 s (4).
    const run = await bootRules(`when syscall latency > ${THRESHOLD_MS}ms on comm "execer"\n`, {
      session: `spawn t comm:execer execthread: comm:execer nanosleep:100x3 nanosleep:1000
                arm
                run t`,
    });
    expectOneTripAfterCall(run, 4);
  });
});

