// The channel as QEMU sees it: nothing but a trip may write the channel byte
// to COM1's scratch register, from the BIOS to the power-off; and a dry run
// logs its trip without writing the port.
import { expect, test } from "vitest";
import { expectAtThreshold, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, CHANNEL_VALUE, channelWrites, consoleTextAt, trips } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const WATCH_PID = `param pid: int\nwhen syscall latency > ${THRESHOLD_MS}ms on pid $pid`;

describeInstalled("qemu", "test-kernel", "stap")("the channel in a real guest", { timeout: 180_000 }, () => {
  test("boot and a whole session with an armed script below its threshold never write the channel byte", async () => {
    // t makes many kinds of calls, all under 200 ms, then exits: its exit_group never
    // returns, and idle keeps the guest up 1 s more, so a start left behind would trip.
    const run = await bootRules(`${WATCH_PID}\n`, {
      session: `spawn t read:100x5 nanosleep:50x10 clock_nanosleep:150x3 getppid:500
                spawn idle nanosleep:1000
                arm pid=$pid_t
                run t
                run idle`,
    });
    expect(run.console).toContain("qt-trigger: getppid");
    // Linux's 8250 driver may probe the scratch register (0xa5, 0x5a, the old value), never
    // with 0x1f; on QEMU's 16550A we saw no write to it at all.
    expect(channelWrites(run).map((w) => w.val)).not.toContain(CHANNEL_VALUE);
  });

  test("a dry run logs the trip at the threshold of a slow call and writes nothing", async () => {
    const run = await bootRules(
      { source: `${WATCH_PID} as "rehearsal"\n`, dryRun: true },
      {
        session: `spawn t nanosleep:3000
                  arm pid=$pid_t
                  run t`,
      },
    );
    expect(trips(run)).toEqual([]);
    // The log line reaches QEMU as COM1 data writes: time it there, on QEMU's clock.
    const logged = consoleTextAt(run, "qtrip: tripped (dry run, port not written): rehearsal");
    expect(logged, run.console).toBeDefined();
    expectAtThreshold(run, 1, logged!);
  });
});
