// `message "TEXT" N times within D` in a real guest: lines written to /dev/kmsg are
// printed to the console (printk:console) like the kernel's own. `on context "kernel"`:
// the same words from root's /dev/kmsg write and from an ordinary user's crashing program
// do not count; from a kernel thread they do. `message "… %u…" > D`: a kernel thread's
// lines at, below and above the threshold, and lines whose number does not parse.
import { basename } from "node:path";
import { expect, test } from "vitest";
import { expectTrip } from "./expect-trip.js";
import { bootRules, buildRuleModule } from "./harness.js";
import { crashAsUser, crashReport, kernelThreadLine, kernelThreadLinesThen, THEN } from "./kernel-lines.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = 'when message "disk on fire" 3 times within 5s as "fire"\n';

/** Init-script lines: a kernel log line, written `times` times. */
function log(text: string, times = 1): string {
  return Array.from({ length: times }, () => `echo "${text}" > /dev/kmsg`).join("\n");
}

describeInstalled("qemu", "test-kernel", "stap")("message in a real guest", { timeout: 180_000 }, () => {
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

  test('on context "kernel": a user\'s crashing program and root\'s line with the words do not trip; a kernel thread\'s line does', async () => {
    const line = await kernelThreadLine("e2e: detected stall, logged by a kernel thread");
    const run = await bootRules('when message "detected stall" on context "kernel" as "kernel line"\n', {
      files: { [`/${basename(line)}`]: line },
      session: `arm
                ${crashAsUser("detected stall")}
                ${log("e2e: detected stall, written by root")}
                sleep 1
                mark 0x30
                staprun -L /${basename(line)}
                sleep 1`,
    });
    // The helper's load takes up to 1.5 s under TCG.
    expectTrip(run, "kernel line", { marker: 0x30, minMs: 0, maxMs: 2000 });
    expect(run.console).toContain(crashReport("detected stall"));
    expect(run.console).toContain("e2e: detected stall, written by root");
  });

  test("a number in a kernel line: below, at and past the threshold, and numbers that do not parse, do not trip; one above it does", async () => {
    const rule = 'when message "read-back delay of %uns" > 500us on context "kernel" as "slow read-back"\n';
    // The kernel thread's lines, as the kernel's own are logged; then, after the marker, one past the threshold.
    // 99999999999999999999 needs 67 bits: wrapped, it would be far above.
    const [lines] = await Promise.all([
      kernelThreadLinesThen(
        ["e2e: read-back delay of 400000ns", "e2e: read-back delay of 500000ns", "e2e: read-back delay of ns", "e2e: read-back delay of 99999999999999999999ns", "e2e: read-back delay of 900000 ns"],
        "e2e: read-back delay of 500001ns",
      ),
      buildRuleModule({ source: rule }),
    ]);
    const run = await bootRules(rule, {
      files: { [`/${basename(lines)}`]: lines },
      session: `arm
                ${log("e2e: read-back delay of 900000ns, written by root")}
                staprun -L /${basename(lines)}
                sleep 1
                echo "qtrip-e2e: logged before the marker: $(dmesg | grep -c 'e2e: read-back delay of')"
                mark 0x30
                ${THEN}
                sleep 1`,
    });
    expectTrip(run, "slow read-back", { marker: 0x30, minMs: 0, maxMs: 2000 });
    // Root's line and the kernel thread's five lines that must not trip were logged before the marker.
    expect(run.console).toContain("qtrip-e2e: logged before the marker: 6");
  });
});
