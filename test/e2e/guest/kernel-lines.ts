// What puts lines into a guest kernel's log for the event and message scenarios:
// an ordinary user's program that crashes (the kernel logs its task name and its
// file's name, whatever words they hold), and a kernel thread of a tiny guru-mode
// helper module of the test's own (Debian's kernels have neither lkdtm nor
// test_lockup), which makes real soft lockups and RCU stalls.
import { buildModule } from "./harness.js";

/** The uid the spoofing programs run as: an ordinary user. */
export const USER = 1000;

/**
 * Session lines: qt-trigger copied to /tmp/NAME and run as an ordinary user, writing through
 * NULL: the kernel logs "NAME[PID]: segfault at 0 ... in NAME[...]" (the task's name is the
 * file's, cut to 15 bytes).
 */
export function crashAsUser(name: string): string {
  return `cp /bin/qt-trigger "/tmp/${name}"\n"/tmp/${name}" uid:${USER} segfault:0`;
}

/** The start of the segfault report for the program crashAsUser(name) ran: the kernel did log the words. */
export function crashReport(name: string): string {
  return `${name.slice(0, 15)}[`;
}

/**
 * A module whose begin probe starts a kernel thread, "qt-e2e", running `body` (in a
 * `static int fn(void *unused)`); `top` is more top-level C. The module stays loaded
 * (staprun -L), so the thread's code does too.
 */
export function kernelThreadModule(body: string, top = ""): Promise<string> {
  return buildModule(
    `%{
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
${top}
static int qt_e2e_thread(void *unused)
{
	pr_info("qt-e2e: thread started on CPU %d\\n", raw_smp_processor_id());
${body}
	pr_info("qt-e2e: thread done\\n");
	return 0;
}
/* A begin probe runs with preemption off, and creating a thread sleeps: a work item creates it. */
static void qt_e2e_start(struct work_struct *unused)
{
	kthread_run(qt_e2e_thread, NULL, "qt-e2e");
}
static DECLARE_WORK(qt_e2e_work, qt_e2e_start);
%}
function start() %{ schedule_work(&qt_e2e_work); %}
probe begin { start() }
`,
    "-g",
  );
}

/**
 * Spins `ms` with preemption off and interrupts on: nothing else runs on its CPU while the
 * timer interrupts go on. The watchdog reports a soft lockup past 2 × kernel.watchdog_thresh.
 */
export function spinning(ms: number): Promise<string> {
  return kernelThreadModule(`\tpreempt_disable();\n\tmdelay(${ms});\n\tpreempt_enable();`);
}

/**
 * A real RCU CPU stall: queues an RCU callback (a grace period starts, on the other vCPU),
 * then spins `ms` with preemption off, so that this CPU never reports its quiescent state.
 * RCU reports it past rcupdate.rcu_cpu_stall_timeout (3 s at least). Needs 2 vCPUs.
 */
export function rcuStall(ms: number): Promise<string> {
  return kernelThreadModule(
    `\tcall_rcu(&qt_e2e_head, qt_e2e_done);\n\tpreempt_disable();\n\tmdelay(${ms});\n\tpreempt_enable();`,
    "static struct rcu_head qt_e2e_head;\nstatic void qt_e2e_done(struct rcu_head *head) {}",
  );
}

/** A real hung task: the kernel thread sleeps `ms` in D state (TASK_UNINTERRUPTIBLE), as a task waiting on I/O does. */
export function sleepingInD(ms: number): Promise<string> {
  return kernelThreadModule(`\tschedule_timeout_uninterruptible(msecs_to_jiffies(${ms}));`);
}

/** The kernel thread's C statement that logs `text`. */
const logged = (text: string) => `\tpr_info("%s\\n", ${JSON.stringify(text)});`;

/** A line the kernel thread logs: a kernel line with words of the test's choice. */
export function kernelThreadLine(text: string): Promise<string> {
  return kernelThreadModule(logged(text));
}

/**
 * Lines the kernel thread logs at once, then, once the session runs `echo go >
 * /proc/sys/kernel/domainname` (it looks every 10 ms, for up to a minute), `then`: a kernel
 * line the session dates with a marker written before, from one module.
 */
export function kernelThreadLinesThen(texts: string[], then: string): Promise<string> {
  return kernelThreadModule(
    [
      "\tint i;",
      ...texts.map(logged),
      '\tfor (i = 0; i < 6000 && strcmp(init_utsname()->domainname, "go") != 0; i++)\n\t\tmsleep(10);',
      logged(then),
    ].join("\n"),
    "#include <linux/string.h>\n#include <linux/utsname.h>",
  );
}

/** Session line: the kernel thread of kernelThreadLinesThen() logs its last line. */
export const THEN = "echo go > /proc/sys/kernel/domainname";

/** Session line: the watchdog reports a soft lockup after 2 s (2 × watchdog_thresh), not 20. */
export const QUICK_WATCHDOG = "echo 1 > /proc/sys/kernel/watchdog_thresh";
/** Session line: RCU reports a stall after 3 s (its least), not 21. */
export const QUICK_RCU_STALLS = "echo 3 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout";
/** Session line: khungtaskd reports a task after 1 s in D state (checking every second), not 120. */
export const QUICK_HUNG_TASKS = "echo 1 > /proc/sys/kernel/hung_task_timeout_secs";
