// The CPU that looks after another one: its previous online CPU. A timer meant to notice
// that a CPU is not run cannot be on that CPU, and a CPU must not touch another CPU's
// timer base (that CPU may be the one stalled, holding its lock): it asks the neighbour
// with an asynchronous cross-CPU call (irq_work_queue_on() is not exported), and a module
// that unloads first waits for its calls still on their way.
import type { Fragment } from "../fragment.js";

export const neighbour: Fragment = {
  name: "neighbour CPU",
  c: String.raw`#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/smp.h>

/* The previous online CPU before cpu, wrapping; -1 when cpu is the only one. */
static int qt_neighbour(int cpu)
{
	int w, last = -1;
	for_each_online_cpu(w) {
		if (w >= cpu && last >= 0)
			break;
		if (w != cpu)
			last = w;
	}
	return last;
}

/*
 * Before the module goes: waits for its cross-CPU calls still on their way (flag set while
 * one is), at most a second (a CPU that is not run that long takes it later: the rest of the
 * unload takes longer still).
 */
static void qt_neighbour_calls_wait(atomic_t *calling)
{
	u64 until = ktime_get_mono_fast_ns() + NSEC_PER_SEC;
	while (atomic_read(calling) && ktime_get_mono_fast_ns() < until)
		cpu_relax();
}`,
};
