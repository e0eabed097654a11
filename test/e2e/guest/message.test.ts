// `message "TEXT" N times within D` in a real guest: lines written to /dev/kmsg are
// printed to the console (printk:console) like the kernel's own.
import { describe, expect, test } from "vitest";
import { expectTrip } from "./expect-trip.js";
import { bootRules } from "./harness.js";

const RULE = 'when message "disk on fire" 3 times within 5s as "fire"\n';

/** Init-script lines: a kernel log line, written `times` times. */
function log(text: string, times = 1): string {
  return Array.from({ length: times }, () => `echo "${text}" > /dev/kmsg`).join("\n");
}

describe("message in a real guest", { timeout: 180_000 }, () => {
  test("three matching lines trip at the third", async () => {
    const run = await bootRules(RULE, {
      session: `arm
                ${log("e2e: disk on fire", 2)}
                mark 0x30
                ${log("e2e: disk on fire")}
                mark 0x31`,
    });
    expectTrip(run, "fire", { marker: 0x30, minMs: 0, maxMs: 100 });
  });

  test("other lines, qtrip's own and matches spread over more than 5 s do not trip; then three close ones do", async () => {
    const run = await bootRules(RULE, {
      session: `arm
                ${log("e2e: disk on ice", 5)}
                ${log("qtrip: e2e: disk on fire", 5)}
                ${log("e2e: disk on fire", 2)}
                sleep 5.5
                ${log("e2e: disk on fire", 2)}
                mark 0x30
                ${log("e2e: disk on fire")}
                mark 0x31`,
    });
    expectTrip(run, "fire", { marker: 0x30, minMs: 0, maxMs: 100 });
    // The lines the rule must skip did reach the console.
    expect(run.console).toContain("qtrip: e2e: disk on fire");
    expect(run.console).toContain("e2e: disk on ice");
  });
});
