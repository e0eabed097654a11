// `event NAME` in a real guest. Each module watches some events; a scenario provokes the
// others first (they must not trip), then one it watches. Provoked for real: sysrq-l asks
// every CPU for a backtrace (nmi_backtrace), a memory hog in a small guest meets the OOM
// killer (oom_kill), sysrq-c panics (panic); hung_task and softlockup are matched by the
// kernel's messages, so a line written to /dev/kmsg stands for them.
import { describe, expect, test } from "vitest";
import { expectTrip, soon } from "./expect-trip.js";
import { bootRules, buildRuleModule, markerAt, NMI_BACKTRACE, PHASE, runGuest, SYSRQ, trips } from "./harness.js";

const SOME = `when event hung_task as "hung task"
when event oom_kill as "oom kill"
when event panic as "panic"
`;
const OTHERS = `when event nmi_backtrace as "nmi backtrace"
when event softlockup as "soft lockup"
`;

const HUNG_TASK = 'echo "INFO: task e2e:123 blocked for more than 120 seconds." > /dev/kmsg';
const SOFT_LOCKUP = 'echo "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [e2e:123]" > /dev/kmsg';
/** 256 MiB of guest memory, no swap: the hog (marks every 16 MiB) is killed well before 1 GiB. */
const OOM = { memoryMb: 256, hog: "spawn hog base:0xa0 hog:1024\nrun hog" };

describe("event in a real guest", { timeout: 180_000 }, () => {
  test("nmi_backtrace: sysrq-l trips", async () => {
    const run = await bootRules(OTHERS, {
      session: `${SYSRQ}
                arm
                mark 0x30
                ${NMI_BACKTRACE}`,
    });
    expectTrip(run, "nmi backtrace", soon(0x30));
  });

  test("hung_task: an NMI backtrace, a soft lockup and other lines do not trip; then a hung task does", async () => {
    const run = await bootRules(SOME, {
      session: `${SYSRQ}
                arm
                ${NMI_BACKTRACE}
                ${SOFT_LOCKUP}
                echo "e2e: blocked for less than a second" > /dev/kmsg
                sleep 1
                mark 0x31
                ${HUNG_TASK}`,
    });
    expectTrip(run, "hung task", soon(0x31));
    expect(run.console).toContain("soft lockup - CPU#0");
  });

  test("oom_kill: a memory hog in a 256 MiB guest trips", async () => {
    const run = await bootRules(SOME, { memoryMb: OOM.memoryMb, session: `arm\n${OOM.hog}` });
    expectTrip(run, "oom kill");
    // It came after the hog had started, and the kernel did kill it.
    expect(trips(run)[0]!.us).toBeGreaterThan(markerAt(run, 0xa1));
    expect(run.console).toMatch(/Out of memory: Killed process \d+ \(qt-trigger\)/);
  });

  test("softlockup: a hung task and an OOM kill do not trip; then a soft lockup does", async () => {
    const run = await bootRules(OTHERS, {
      memoryMb: OOM.memoryMb,
      session: `arm
                ${HUNG_TASK}
                ${OOM.hog}
                sleep 1
                mark 0x31
                ${SOFT_LOCKUP}`,
    });
    expectTrip(run, "soft lockup", soon(0x31));
    expect(run.console).toMatch(/Out of memory: Killed process \d+ \(qt-trigger\)/);
  });

  test("panic: sysrq-c trips before the guest goes down", async () => {
    // The session never ends: the guest panics (panic=-1 reboots, -no-reboot ends QEMU).
    const run = await runGuest({
      module: await buildRuleModule({ source: SOME }),
      session: `${SYSRQ}
                arm
                mark 0x30
                echo c > /proc/sysrq-trigger`,
    });
    markerAt(run, PHASE.armed);
    expectTrip(run, "panic", soon(0x30));
    expect(run.console).toContain("Kernel panic - not syncing: sysrq triggered crash");
    expect(run.markers.map((w) => w.val)).not.toContain(PHASE.done);
  });

  test("oom_kill: the filters are the victim's, not those of the task whose allocation met the OOM killer", async () => {
    // The victim (oom_score_adj 1000: the OOM killer's first choice) holds 32 MiB and sleeps;
    // the allocator's hog meets the OOM killer, which kills the victim.
    const run = await bootRules('when event oom_kill on comm "allocator" as "allocator"\nwhen event oom_kill on comm "victim" as "victim"\n', {
      memoryMb: OOM.memoryMb,
      session: `arm
                spawn v comm:victim base:0xb0 hog:32 nanosleep:30000
                echo 1000 > /proc/$pid_v/oom_score_adj
                spawn a comm:allocator base:0xa0 hog:1024
                run v a`,
    });
    expectTrip(run, "victim");
    expect(run.console).toMatch(/Out of memory: Killed process \d+ \(victim\)/);
  });
});

