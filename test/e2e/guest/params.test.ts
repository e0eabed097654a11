// Parameters in a real guest: given at compile time (--define), at load time
// (staprun NAME=VALUE, as stap -G), or missing.
import { expect, test } from "vitest";
import { expectOneTripAfterCall, msBetween, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, buildRuleModule, markerAt, runGuest, type GuestRun } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

/** Blocked five times the threshold: it must trip at the threshold, not when it returns. */
const SLOW_CALL = "spawn t nanosleep:1000";

describeInstalled("qemu", "test-kernel", "stap")("parameters in a real guest", { timeout: 180_000 }, () => {
  test("an int and a duration given at load time", async () => {
    const run = await bootRules(
      { source: "param pid: int\nparam lag: duration\nwhen syscall latency > $lag on pid $pid\n" },
      {
        session: `${SLOW_CALL}
       arm pid=$pid_t lag=${THRESHOLD_MS}ms
       run t`,
      },
    );
    expectOneTripAfterCall(run, 1);
  });

  test("a string baked in at compile time (--define)", async () => {
    const run = await bootRules(
      { source: `param who: string\nwhen syscall latency > ${THRESHOLD_MS}ms on comm $who\n`, defines: { who: "qt-trigger" } },
      {
        session: `${SLOW_CALL}
       arm
       run t`,
      },
    );
    expectOneTripAfterCall(run, 1);
  });

  // Regression: a handler's local was the global of a parameter of the same name. Here the
  // start probe's `rules = 0` overwrites the watched pid on every system call, so the
  // rule never matches. Fix: the emitter names its own variables qt_* (reserved to it).
  test("a parameter named like a local of the generated probes (rules)", async () => {
    const run = await bootRules(
      { source: `param rules: int\nwhen syscall latency > ${THRESHOLD_MS}ms on pid $rules\n` },
      {
        session: `${SLOW_CALL}
       arm rules=$pid_t
       run t`,
      },
    );
    expectOneTripAfterCall(run, 1);
  });

  // Regression, the same kind: the begin probe parsed `lag` into a variable `lag_ns`,
  // which is the other parameter, so the watched pid becomes 200000000.
  test("a duration parameter next to an int parameter named after it (lag, lag_ns)", async () => {
    const run = await bootRules(
      { source: "param lag: duration\nparam lag_ns: int\nwhen syscall latency > $lag on pid $lag_ns\n" },
      {
        session: `${SLOW_CALL}
       arm lag=${THRESHOLD_MS}ms lag_ns=$pid_t
       run t`,
      },
    );
    expectOneTripAfterCall(run, 1);
  });

  // One boot for both starts without the run-time value (the same module): in the foreground, then detached.
  const missingPid = () => buildRuleModule({ source: `param pid: int\nwhen syscall latency > ${THRESHOLD_MS}ms on pid $pid\n` });
  let missing: Promise<GuestRun> | undefined;
  const startedWithoutPid = () =>
    (missing ??= missingPid().then((module) =>
      runGuest({
        module,
        session: `mark 0xe0
                  timeout 10 staprun $MODULE
                  mark 0xe1
                  dmesg -c > /dev/null
                  staprun -L $MODULE
                  mark 0xe2
                  echo "qtrip-e2e: logged after the detached start: $(dmesg | grep -c "qtrip: parameter 'pid' has no value")"`,
      }),
    ));

  test("a script started without its run-time value stops at once, naming it", async () => {
    const run = await startedWithoutPid();
    expect(run.console).toContain("qtrip: parameter 'pid' has no value");
    expect(msBetween(markerAt(run, 0xe0), markerAt(run, 0xe1))).toBeLessThan(5000);
  });

  // Regression: started detached (staprun -L, as a trip-wire often is), the refusal goes
  // to a stapio that has gone: nothing is logged anywhere, staprun exits 0 and the
  // module stays loaded, unarmed. Fix: qt_refuse printk()s the message too.
  test("started detached without its run-time value, it names it in the kernel log", async () => {
    const run = await startedWithoutPid();
    markerAt(run, 0xe2); // staprun returned
    // The kernel log was emptied after the first start: this line is the detached start's own.
    expect(run.console).toContain("qtrip-e2e: logged after the detached start: 1");
  });
});
