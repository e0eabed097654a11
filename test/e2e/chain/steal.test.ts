// `steal > 20% within 1s` (after the guest's "go") in a guest under KVM, with real steal time: one boot of
// the emulated hypervisor (support/steal.ts), two phases of a spinning guest. With
// the guest's vCPU thread alone on its host CPU nothing trips; with a busy host task
// sharing that CPU the guest's rule trips, and the host's `log` action reports it.
// About 100-200 s under TCG.
import { beforeAll, expect, it } from "vitest";
import { matching, type HostBoot, type LogRecord } from "../host/support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";
import { sampledOut, taken } from "../support/sample.js";
import { CHAIN_ROTATION, STEAL_SLOT } from "./support/chain.js";
import { PHASE_MS, STEAL_CASE, STEAL_LABEL, STEAL_PERCENT, STEAL_WINDOW_MS, stealChainBoot } from "./support/steal.js";

/** The guest's steal so far, in USER_HZ ticks (the eighth field of /proc/stat's "cpu" line), as it said at the end of a phase. */
function stealTicks(log: LogRecord[], when: string): number {
  const line = matching(log, new RegExp(`^@@ l2: qtrip-l2: stat ${when} cpu `))[0];
  return Number(line?.split(/\s+/)[13]);
}

const GUEST_TRIP = new RegExp(`^@@ l2: \\[ *\\d+\\.\\d+\\] qtrip: tripped: ${STEAL_LABEL}: writing 0x1f to port 0x3ff`);
const GUEST_STEAL = /^@@ l2: \[ *\d+\.\d+\] qtrip: steal on cpu 0: (\d+) ns within the last (\d+) ns/;
const BANNER = new RegExp(`^qtrip: TRIP case '${STEAL_CASE}': guest vCPU thread 'CPU 0/KVM'`);

// One boot of about 105 s: in the chain's rotation (chain.test.ts), one chain boot a run.
const sampled = taken("chain", STEAL_SLOT, CHAIN_ROTATION);

describeInstalled("qemu", "test-kernel", "stap").skipIf(!sampled)(`steal > 20% within 1s in a guest under KVM: real steal time from a host task on the vCPU thread's CPU${sampled ? "" : ` (${sampledOut("chain")})`}`, () => {
  let boot: HostBoot;
  beforeAll(async () => {
    boot = await stealChainBoot();
    const hog = boot.step("hog");
    const started = hog.find((r) => r.text.startsWith("@@ hog started"));
    const banner = hog.find((r) => BANNER.test(r.text));
    console.log(
      `chain steal: steal ticks at start/quiet/hog ${["start", "quiet", "hog"].map((w) => stealTicks([...boot.step("quiet"), ...hog], w)).join("/")}; ` +
        `hog start to host banner ${started && banner ? Math.round((banner.t - started.t) * 1000) : "?"} ms; ${matching(hog, GUEST_STEAL)[0] ?? "no steal line"}`,
    );
  }, 900_000);

  it("the guest arms its rule under KVM; its vCPU thread runs alone on host CPU 1", () => {
    const log = boot.step("vmm");
    expect(matching(log, /^@@ l2: \[ *\d+\.\d+\] qtrip: armed: /)).toEqual([expect.stringContaining(`qtrip: armed: 1 rule(s), case '${STEAL_CASE}'`)]);
    expect(matching(log, /^@@ vcpu thread \d+: /)).toEqual([expect.stringMatching(/affinity mask: 2$/)]);
    expect(matching(log, /^@@ armed$/)).toHaveLength(1);
    // Steal during the boot does not count: the rule's window opens at the guest's SIGUSR1, after "go".
    expect(matching(log, /qtrip: tripped|qtrip: TRIP/)).toEqual([]);
  });

  it(`without the host task: ${PHASE_MS.quiet / 1000} s of spinning, no trip, and hardly any steal`, () => {
    const log = boot.step("quiet");
    expect(matching(log, /^@@ seen: qtrip-l2: phase hog/)).toHaveLength(1);
    expect(matching(log, /qtrip: tripped|qtrip: steal on cpu|qtrip: TRIP/)).toEqual([]);
    // USER_HZ is 100: below the rule's share over the whole phase (20% of 8 s is 160 ticks).
    const quiet = stealTicks(log, "quiet") - stealTicks(log, "start");
    expect(quiet).toBeGreaterThanOrEqual(0);
    expect(quiet).toBeLessThan(((PHASE_MS.quiet / 1000) * 100 * STEAL_PERCENT) / 100);
  });

  it("with a busy host task on the vCPU thread's CPU: the guest counts steal, its rule trips once, and the host logs the trip and runs on", () => {
    const log = boot.step("hog");
    const started = log.find((r) => r.text.startsWith("@@ hog started"))!;
    expect(started.text).toMatch(/affinity mask: 2$/);
    const steal = matching(log, GUEST_STEAL).map((l) => GUEST_STEAL.exec(l)!.slice(1, 3).map(Number));
    expect(steal).toHaveLength(1);
    // The steal the rule saw: above its share of its window, and no more than the window.
    expect(steal[0]![1]).toBe(STEAL_WINDOW_MS * 1_000_000);
    expect(steal[0]![0]).toBeGreaterThan((STEAL_WINDOW_MS * 1_000_000 * STEAL_PERCENT) / 100);
    expect(steal[0]![0]).toBeLessThanOrEqual(STEAL_WINDOW_MS * 1_000_000);
    expect(matching(log, GUEST_TRIP)).toHaveLength(1);
    const banners = log.filter((r) => BANNER.test(r.text));
    expect(banners).toHaveLength(1);
    // After the host task started, within the window and some TCG slack.
    expect(banners[0]!.t).toBeGreaterThan(started.t);
    expect(banners[0]!.t - started.t).toBeLessThan(5);
    // /proc/stat agrees: the hog phase's steal is well above the quiet one's.
    const hogTicks = stealTicks(log, "hog") - stealTicks(boot.step("quiet"), "quiet");
    expect(hogTicks).toBeGreaterThan(((PHASE_MS.hog / 1000) * 100 * STEAL_PERCENT) / 100 / 2);
    expect(matching(log, /^@@ seen: qtrip-l2: done/)).toHaveLength(1);
  });
});
