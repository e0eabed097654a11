// `function "NAME" latency > D` in a real guest, on hrtimer_nanosleep: nanosleep(2) and
// clock_nanosleep(2) block in it (a global, not inlined, in System.map); a timerfd read does not.
import { describe, test } from "vitest";
import { atThreshold, expectTrip, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules } from "./harness.js";

const RULE = `when function "hrtimer_nanosleep" latency > ${THRESHOLD_MS}ms as "slow sleep"\n`;

describe("function latency in a real guest", { timeout: 180_000 }, () => {
  test("trips about 200 ms into a 1 s nanosleep", async () => {
    const run = await bootRules(RULE, {
      session: `spawn t nanosleep:1000
                arm
                run t`,
    });
    expectTrip(run, "slow sleep", atThreshold(1));
  });

  test("short sleeps and a slow call of another function do not trip; then a long sleep does", async () => {
    // Calls 1-10: 100 ms sleeps; 11: a 600 ms timerfd read; 12: a 1 s clock_nanosleep.
    const run = await bootRules(RULE, {
      session: `spawn t nanosleep:100x10 read:600 clock_nanosleep:1000
                arm
                run t`,
    });
    expectTrip(run, "slow sleep", atThreshold(12));
  });
});
