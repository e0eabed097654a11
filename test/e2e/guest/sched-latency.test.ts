// `sched latency >= D on comm "NAME"` in a real guest with one vCPU: a SCHED_FIFO task
// spinning (qt-trigger fifo:50 ... spin:MS) keeps every normal task off the CPU, so a
// task woken meanwhile (a sleeper's 10 ms timer expires) waits on the run queue until
// the spin ends. RT throttling (950 ms a second) leaves spins under 950 ms alone.
import { basename } from "node:path";
import { describe, test } from "vitest";
import { expectTrip, SLACK_MS, THRESHOLD_MS } from "./expect-trip.js";
import { bootRules, buildModule } from "./harness.js";

const RULE = `when sched latency >= ${THRESHOLD_MS}ms on comm "victim" as "victim waited"\n`;
/** The sleeper is woken within 10 ms of the spin's start; it waits from then on. */
const WOKEN_WITHIN_MS = 10;

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

describe("sched latency in a real guest", { timeout: 180_000 }, () => {
  test("a victim woken behind a 600 ms FIFO spin trips 200 ms after it was woken", async () => {
    // The sleepers mark each sleep (1 to 180 at most); the hog's markers start at 0xc1:
    // its sleep (so the victim runs first), then its spin (0xc2).
    const run = await bootRules(RULE, {
      session: `spawn v comm:victim nanosleep:10x180
                spawn h base:0xc0 fifo:50 nanosleep:300 spin:600
                arm
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xc2, minMs: THRESHOLD_MS, maxMs: THRESHOLD_MS + WOKEN_WITHIN_MS + SLACK_MS });
  });

  test("another comm behind a spin, the victim alone and behind a short spin do not trip; then a long spin does", async () => {
    // First a bystander sleeps behind a 600 ms spin (0xc2); then the victim sleeps alone
    // (0xc4: 300 ms), behind a 150 ms spin (0xc5), alone again (0xc6), behind a 600 ms spin (0xc7).
    const run = await bootRules(RULE, {
      session: `spawn b comm:bystander nanosleep:10x100
                spawn h base:0xc0 fifo:50 nanosleep:300 spin:600
                arm
                run b h
                spawn v comm:victim nanosleep:10x180
                spawn h base:0xc3 fifo:50 nanosleep:300 spin:150 nanosleep:300 spin:600
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xc7, minMs: THRESHOLD_MS, maxMs: THRESHOLD_MS + WOKEN_WITHIN_MS + SLACK_MS });
  });

  test("a victim woken while on its CPU, which then sleeps 600 ms, does not trip; then a spin does", async () => {
    const helper = await wakeOnCpuHelper();
    // The victim's 600 ms sleep (1), woken by the helper as it starts, on its CPU; then the
    // first scenario's victim behind a 600 ms spin (0xc2).
    const run = await bootRules(RULE, {
      files: { [`/${basename(helper)}`]: helper },
      session: `spawn w comm:victim nanosleep:600
                arm
                staprun -L /${basename(helper)}
                run w
                spawn v comm:victim nanosleep:10x180
                spawn h base:0xc0 fifo:50 nanosleep:300 spin:600
                run v h`,
    });
    expectTrip(run, "victim waited", { marker: 0xc2, minMs: THRESHOLD_MS, maxMs: THRESHOLD_MS + WOKEN_WITHIN_MS + SLACK_MS });
  });
});
