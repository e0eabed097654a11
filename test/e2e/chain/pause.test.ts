// A pause of a real KVM guest trips nothing on either clocksource, and `event vm_resumed`
// sees each resume (issue #26 item 4): one boot of the emulated hypervisor (support/pause.ts).
// A rule that opts in (`counting pauses`) counts a pause: one boot for each clocksource.
import { expect, test } from "vitest";
import { describeInstalled } from "../../support/installed.js";
import { matching, type LogRecord } from "../host/support/emulated-host.js";
import { sampledOut, taken } from "../support/sample.js";
import { CHAIN_ROTATION, PAUSE_OPT_IN_SLOTS, PAUSE_SLOT } from "./support/chain.js";
import { OPT_IN, PAUSE_MS, pauseChainBoot, pauseOptInBoot, type OptInClock } from "./support/pause.js";

// One boot of 2-3 min: in the chain's rotation (chain.test.ts), one chain boot a run.
const sampled = taken("chain", PAUSE_SLOT, CHAIN_ROTATION);

/** The guest's own lines, as the host logged them on arrival ("@@ l2: LINE"). */
function guestLines(log: LogRecord[]): LogRecord[] {
  return log.filter((r) => r.text.startsWith("@@ l2: ")).map((r) => ({ t: r.t, text: r.text.slice(7) }));
}

function at(log: LogRecord[], pattern: RegExp): number {
  const r = log.find((x) => pattern.test(x.text));
  if (!r) throw new Error(`no ${pattern} in:\n${log.map((x) => `[${x.t}] ${x.text}`).join("\n")}`);
  return r.t;
}

describeInstalled("qemu", "test-kernel", "stap")("pauses of a KVM guest", { timeout: 700_000 }, () => {
  test.skipIf(!sampled)(`${sampled ? "" : `(${sampledOut("chain")}) `}two 5 s pauses (kvm-clock, then the TSC) trip nothing; a 3 s sleep after them trips the sequence`, async () => {
    const boot = await pauseChainBoot();
    const log = boot.step("pauses");
    const guest = guestLines(log);
    // Each clocksource was the guest's when it was paused.
    expect(matching(guest, /^qtrip-l2: clocksource /)).toEqual(["qtrip-l2: clocksource kvm-clock", "qtrip-l2: clocksource tsc"]);
    const resumed2 = at(log, /^@@ pause 2: cont$/);
    expect(resumed2 - at(log, /^@@ pause 2: stop$/)).toBeGreaterThanOrEqual(PAUSE_MS / 1000);
    // One trip, by the sequence, and only once the 3 s sleep (call 17) was 2 s old by the guest's own
    // clock: the pauses counted for nothing, and the second one (on the TSC) was 5 s of the guest's time.
    expect(matching(log, /^qtrip: TRIP case 'CHAIN-26'/)).toHaveLength(1);
    expect(matching(guest, /qtrip: tripped: /)).toEqual([expect.stringMatching(/qtrip: tripped: slow sleep after a resume: writing 0x1f to port 0x3ff$/)]);
    const guestClock = (pattern: RegExp) => Number(/^\[\s*(\d+\.\d+)\]/.exec(guest.find((r) => pattern.test(r.text))?.text ?? "")?.[1]);
    expect(guestClock(/qt-trigger: call 9 starts/) - guestClock(/qt-trigger: call 8 starts/)).toBeGreaterThanOrEqual(PAUSE_MS / 1000);
    expect(guestClock(/qt-trigger: call 4 starts/) - guestClock(/qt-trigger: call 3 starts/)).toBeLessThan(2); // kvm-clock hid pause 1
    const lastCall = guestClock(/qt-trigger: call 17 starts/);
    const tripped = guestClock(/qtrip: tripped: /);
    expect(at(log, /qt-trigger: call 17 starts/)).toBeGreaterThan(resumed2);
    expect(tripped - lastCall).toBeGreaterThanOrEqual(2);
    expect(tripped - lastCall).toBeLessThan(2.5);
  });
});

const optIns = (Object.keys(OPT_IN) as OptInClock[]).map((clock) => ({ clock, sampled: taken("chain", PAUSE_OPT_IN_SLOTS[clock], CHAIN_ROTATION) }));

describeInstalled("qemu", "test-kernel", "stap").each(optIns)("a pause that a rule counts, the guest on $clock", ({ clock, sampled }) => {
  test.skipIf(!sampled)(`${sampled ? "" : `(${sampledOut("chain")}) `}the rule that counts pauses trips at the resume; the others do not`, { timeout: 700_000 }, async () => {
    const boot = await pauseOptInBoot(clock);
    const log = boot.step("pauses");
    const guest = guestLines(log);
    expect(matching(guest, /^qtrip-l2: clocksource /)).toEqual([`qtrip-l2: clocksource ${clock}`]);
    const stopped = at(log, /^@@ pause 1: stop$/);
    const resumed = at(log, /^@@ pause 1: cont$/);
    expect(resumed - stopped).toBeGreaterThanOrEqual(PAUSE_MS / 1000);
    // Nothing tripped before the pause, one rule at the resume: the one that counts pauses.
    expect(matching(log, /^qtrip: TRIP case 'CHAIN-26-OPT-IN'/)).toHaveLength(1);
    expect(matching(guest, /qtrip: tripped: /)).toEqual([expect.stringMatching(new RegExp(`qtrip: tripped: ${OPT_IN[clock].label}: writing 0x1f to port 0x3ff$`))]);
    const trip = at(log, /^qtrip: TRIP case/);
    expect(trip).toBeGreaterThan(resumed - 0.5); // the host's own lines: "cont" is said once the monitor took it
    console.log(`opt-in (${clock}): trip ${(trip - resumed).toFixed(3)} s after the host said cont`);
    expect(trip - resumed).toBeLessThan(2);
    if (clock === "kvm-clock") {
      // The guest's clock never saw the pause: the sleep that tripped was under 2 s old by it, and counted as more.
      const guestClock = (r: LogRecord | undefined) => Number(/^\[\s*(\d+\.\d+)\]/.exec(r?.text ?? "")?.[1]);
      const tripped = guestClock(guest.find((r) => /qtrip: tripped: /.test(r.text)));
      const starts = guest.filter((r) => /qt-trigger: call \d+ starts/.test(r.text)).map(guestClock).filter((t) => t <= tripped);
      expect(tripped - starts[starts.length - 1]).toBeLessThan(1.5);
    }
  });
});
