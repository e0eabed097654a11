// `sched latency >= D on comm "NAME"` in a real guest with one vCPU: a SCHED_FIFO task
// spinning (qt-trigger fifo:50 ... spin:MS) keeps every normal task off the CPU, so a
// task woken meanwhile waits on the run queue until the spin ends. RT throttling (950 ms
// a second) leaves spins under 950 ms alone.
//
// The victim sleeps in wait:FIFO, and the spinner wakes it (release:FIFO) just before it
// spins: the victim is surely asleep then, not preempted while it runs (a preempted task
// that stays runnable is not timed, by design: wakeup latency only). A victim that slept
// in a loop of short sleeps was, now and then, running at the spin's start (CI saw it).
import { basename } from "node:path";
import { test } from "vitest";
import { expectTrip, SLACK_MS, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, buildModule } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `when sched latency >= ${THRESHOLD_MS}ms on comm "victim" as "victim waited"\n`;
/** The victim is woken after the release's marker, and before the spin starts: it waits from then on. */
const AFTER_RELEASE = { minMs: THRESHOLD_MS, maxMs: THRESHOLD_MS + SLACK_MS };

/**
 * A guru-mode module of the test's own that plays a race the kernel has: a task is woken
 * while it is still on its CPU, between setting itself asleep and calling schedule() (an
 * interrupt's wake-up of current, or ttwu_runnable() from another CPU). sched_wakeup fires,
 * and no sched_switch brings the task in, for it never left; it then sleeps, and a timing
 * begun at that wake-up would run on through the sleep. Once, as the victim's first nanosleep starts.
 */
function wakeOnCpuHelper(): Promise<string> {
  return buildModule(
    `global woken
probe kernel.trace("raw_syscalls:sys_enter") {
	if ($id == 35 && !woken && execname() == "victim") {
		woken = 1
		wake_current()
	}
}
function wake_current() %{
	set_current_state(TASK_INTERRUPTIBLE);
	wake_up_process(current);
%}
`,
    "-g",
  );
}

describeInstalled("qemu", "test-kernel", "stap")("sched latency in a real guest", { timeout: 180_000 }, () => {
  test("a victim woken behind a 600 ms FIFO spin trips 200 ms after it was woken", async () => {
    // The hog's markers start at 0xc1: its sleep (so the victim reaches its wait first), the
    // release that wakes the victim (0xc2), its spin (0xc3).
    const run = await bootRules(RULE, {
      session: `mkfifo /run/wake
                spawn v comm:victim wait:/run/wake
                spawn h base:0xc0 fifo:50 nanosleep:300 release:/run/wake spin:600
                arm
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xc2, ...AFTER_RELEASE });
  });

  test("another comm behind a spin, the victim alone and behind a short spin do not trip; then a long spin does", async () => {
    // First a bystander waits behind a 600 ms spin (released at 0xc2); then the victim sleeps
    // alone (10 sleeps of 10 ms: 1 to 10), waits behind a 150 ms spin (released at 0xd2), and
    // behind a 600 ms spin (released at 0xd5).
    const run = await bootRules(RULE, {
      session: `mkfifo /run/b1 /run/w1 /run/w2
                spawn b comm:bystander wait:/run/b1
                spawn h base:0xc0 fifo:50 nanosleep:300 release:/run/b1 spin:600
                arm
                run b h
                spawn v comm:victim nanosleep:10x10 wait:/run/w1 wait:/run/w2
                spawn h base:0xd0 fifo:50 nanosleep:400 release:/run/w1 spin:150 nanosleep:300 release:/run/w2 spin:600
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xd5, ...AFTER_RELEASE });
  });

  test("a victim woken while on its CPU, which then sleeps 600 ms, does not trip; then a spin does", async () => {
    const helper = await wakeOnCpuHelper();
    // The victim's 600 ms sleep (1), woken by the helper as it starts, on its CPU; then the
    // first scenario's victim, released at 0xc2 behind a 600 ms spin.
    const run = await bootRules(RULE, {
      files: { [`/${basename(helper)}`]: helper },
      session: `spawn w comm:victim nanosleep:600
                arm
                staprun -L /${basename(helper)}
                run w
                mkfifo /run/wake
                spawn v comm:victim wait:/run/wake
                spawn h base:0xc0 fifo:50 nanosleep:300 release:/run/wake spin:600
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xc2, ...AFTER_RELEASE });
  });
});
