// `event NAME` in a real guest. Each module watches some events; a scenario provokes the
// others first (they must not trip), then one it watches. Provoked for real: sysrq-l asks
// every CPU for a backtrace (nmi_backtrace), a memory hog in a small guest meets the OOM
// killer (oom_kill), sysrq-c panics (panic), a kernel thread of a helper module sleeps in D
// state for seconds (hung_task) or spins with preemption off (soft lockup). Before each, the same words that used to trip (a root
// line in /dev/kmsg, a program named after them that crashes as an ordinary user) do not.
import { basename } from "node:path";
import { expect, test } from "vitest";
import { expectTrip, soon } from "./expect-trip.js";
import { bootRules, buildRuleModule, markerAt, NMI_BACKTRACE, PHASE, runGuest, SYSRQ, trips } from "./harness.js";
import { crashAsUser, crashReport, QUICK_HUNG_TASKS, QUICK_WATCHDOG, sleepingInD, spinning } from "./kernel-lines.js";
import { describeInstalled } from "../../support/installed.js";

const SOME = `when event hung_task as "hung task"
when event oom_kill as "oom kill"
when event panic as "panic"
`;
const OTHERS = `when event nmi_backtrace as "nmi backtrace"
when event softlockup as "soft lockup"
`;

/** Lines that used to trip: the kernel's words, written by root to /dev/kmsg (a user task's write). */
const HUNG_TASK_LINE = 'echo "INFO: task e2e:123 blocked for more than 120 seconds." > /dev/kmsg';
const SOFT_LOCKUP_LINE = 'echo "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [e2e:123]" > /dev/kmsg';
/** Programs named after the kernel's words, crashing as an ordinary user: the kernel logs both names. */
const HUNG_TASK_NAME = "x blocked for more than 1 seconds";
const SOFT_LOCKUP_NAME = "soft lockup - CPU#0 stuck for 1s!";
/** 256 MiB of guest memory, no swap: the hog (marks every 16 MiB) is killed well before 1 GiB. */
const OOM = { memoryMb: 256, hog: "spawn hog base:0xa0 hog:1024\nrun hog" };
/** A soft lockup comes 2-2.4 s into the spin (past the helper's load, up to 1.5 s under TCG). */
const SOFT_LOCKUP_AFTER = (marker: number) => ({ marker, minMs: 2000, maxMs: 5000 });

describeInstalled("qemu", "test-kernel", "stap")("event in a real guest", { timeout: 180_000 }, () => {
  test("nmi_backtrace: sysrq-l trips", async () => {
    const run = await bootRules(OTHERS, {
      session: `${SYSRQ}
                arm
                mark 0x30
                ${NMI_BACKTRACE}`,
    });
    expectTrip(run, "nmi backtrace", soon(0x30));
  });

  test("hung_task: an NMI backtrace, the hung-task line from root and a program named after it crashing as a user do not trip; then a real hung task does", async () => {
    const sleeper = await sleepingInD(5000);
    const run = await bootRules(SOME, {
      files: { [`/${basename(sleeper)}`]: sleeper },
      session: `${SYSRQ}
                arm
                ${NMI_BACKTRACE}
                ${SOFT_LOCKUP_LINE}
                ${HUNG_TASK_LINE}
                ${crashAsUser(HUNG_TASK_NAME)}
                sleep 1
                ${QUICK_HUNG_TASKS}
                mark 0x31
                staprun -L /${basename(sleeper)}
                sleep 6`,
    });
    // khungtaskd checks every second: the thread is reported 1-2 s into its sleep (past the helper's load).
    expectTrip(run, "hung task", { marker: 0x31, minMs: 1000, maxMs: 5000 });
    expect(run.console).toMatch(/INFO: task qt-e2e:\d+ blocked for more than 1 seconds/);
    // The words that used to trip were logged.
    expect(run.console).toContain("INFO: task e2e:123 blocked for more than 120 seconds.");
    expect(run.console).toContain(crashReport(HUNG_TASK_NAME));
    expect(run.console).toContain(`in ${HUNG_TASK_NAME}[`);
  }, 300_000);

  test("oom_kill: a memory hog in a 256 MiB guest trips", async () => {
    const run = await bootRules(SOME, { memoryMb: OOM.memoryMb, session: `arm\n${OOM.hog}` });
    expectTrip(run, "oom kill");
    // It came after the hog had started, and the kernel did kill it.
    expect(trips(run)[0]!.us).toBeGreaterThan(markerAt(run, 0xa1));
    expect(run.console).toMatch(/Out of memory: Killed process \d+ \(qt-trigger\)/);
  });

  test("softlockup: a hung-task line, an OOM kill, the soft lockup line from root and a program named after it crashing as a user do not trip; then a real soft lockup does", async () => {
    const spin = await spinning(4000);
    const run = await bootRules(OTHERS, {
      memoryMb: OOM.memoryMb,
      files: { [`/${basename(spin)}`]: spin },
      session: `arm
                ${HUNG_TASK_LINE}
                ${OOM.hog}
                ${SOFT_LOCKUP_LINE}
                ${crashAsUser(SOFT_LOCKUP_NAME)}
                sleep 1
                ${QUICK_WATCHDOG}
                mark 0x31
                staprun -L /${basename(spin)}
                sleep 5`,
    });
    expectTrip(run, "soft lockup", SOFT_LOCKUP_AFTER(0x31));
    expect(run.console).toMatch(/watchdog: BUG: soft lockup - CPU#0 stuck for \d+s! \[qt-e2e:\d+\]/);
    expect(run.console).toMatch(/Out of memory: Killed process \d+ \(qt-trigger\)/);
    expect(run.console).toContain(crashReport(SOFT_LOCKUP_NAME));
    expect(run.console).toContain(`in ${SOFT_LOCKUP_NAME}[`);
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

