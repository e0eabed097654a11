// Calls timed from a function's entry kprobe to its return probe (a kretprobe).
// A kretprobe has a fixed pool of instances (.maxactive): a call that finds it
// empty gets no return probe, so its end is never seen and it would look like a
// call still running — a false trip once it is older than the threshold. The
// entry probe cannot tell (it is a separate kprobe), so the start records where
// the call's return address is on its stack; a call with a return probe has the
// kretprobe trampoline there until it returns (or the function graph tracer's, which
// hides ours). When such a call becomes due, the
// scan looks: the trampoline, it trips; anything else, it was never timed — no
// trip, counted, and said in the kernel log at once (and again at the end).
import type { Fragment } from "../fragment.js";
import { inflight } from "./inflight.js";

export const returnProbes: Fragment = {
  name: "return probes",
  requires: [inflight],
  c: String.raw`#include <linux/kallsyms.h>
#include <linux/ratelimit.h>
#include <linux/uaccess.h>

static unsigned long qt_return_trampoline;	/* where a kretprobe sends the returns it catches; 0: unknown */
static unsigned long qt_graph_trampoline;	/* the function graph tracer's (return_to_handler); 0: none */
static atomic_t qt_lost_returns;	/* calls due but not timed: their return probe had no instance */
static DEFINE_RATELIMIT_STATE(qt_lost_said, 5 * HZ, 1);

/* The call whose return address was at frame returns through the trampoline: its return probe is armed. */
static int qt_return_probed(unsigned long frame)
{
	unsigned long ret;

	if (!qt_return_trampoline) /* cannot tell (said when the script armed): the start is trusted */
		return 1;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5,8,0)
	if (copy_from_kernel_nofault(&ret, (void *)frame, sizeof(ret)))
#else
	if (probe_kernel_read(&ret, (void *)frame, sizeof(ret)))
#endif
		return 0;
	/* The function graph tracer (and fprobe, which is built on it since 6.14) hooks the same call after the
	 * kprobes and puts its own trampoline in the slot, keeping ours on its shadow stack, which only the task's
	 * own unwinder reads: a call it traces is trusted, as when the trampoline is unknown. */
	return ret == qt_return_trampoline || (qt_graph_trampoline && ret == qt_graph_trampoline);
}

/* A due call of rule label's function that was never timed: the first is said at once, then a line at most every 5 s. Hard-IRQ context: deferred. */
static void qt_lost_return(const char *label)
{
	int lost = atomic_inc_return(&qt_lost_returns);
	if (__ratelimit(&qt_lost_said))
		qt_log_deferred(KERN_WARNING "qtrip: %s: %d call(s) so far not timed: their return probe found no free instance (more concurrent calls than .maxactive): such a call cannot trip\n", label, lost);
}`,
  stap: String.raw`/* The trampoline's name changed: rethook (x86 since 5.19), __kretprobe_trampoline (5.15), kretprobe_trampoline. */
function qt_find_return_trampoline() %{
	static const char *const names[] = { "arch_rethook_trampoline", "__kretprobe_trampoline", "kretprobe_trampoline" };
	int i;
	for (i = 0; i < ARRAY_SIZE(names) && !qt_return_trampoline; i++)
		qt_return_trampoline = kallsyms_lookup_name(names[i]);
	if (!qt_return_trampoline)
		_stp_warn("qtrip: the kretprobe trampoline is not in kallsyms: a call whose return probe found no free instance may trip");
	qt_graph_trampoline = kallsyms_lookup_name("return_to_handler");
%}

/* Start timing a call at its entry probe, where the stack pointer points at its return address. */
function qt_start_call(table:long, key:long, rules:long) %{
	qt_inflight_start(STAP_ARG_table, STAP_ARG_key, STAP_ARG_rules, CONTEXT->kregs ? kernel_stack_pointer(CONTEXT->kregs) : 0);
%}

probe begin(-1) { qt_find_return_trampoline() }

# Said again when the script stops, in the kernel log (a dump or dmesg keeps it).
probe end { qt_say_lost_returns() }

function qt_say_lost_returns() %{
	int lost = atomic_read(&qt_lost_returns);
	if (lost)
		printk(KERN_WARNING "qtrip: %d call(s) past the threshold were not timed: their return probe found no free instance\n", lost);
%}`,
  probes: ["begin(-1)", "end"],
};
