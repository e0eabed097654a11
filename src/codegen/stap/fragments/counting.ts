// `N times within D`: the times of the last N occurrences of each counting rule.
import type { Fragment } from "../fragment.js";
import { pauses } from "./pauses.js";

export const counting: Fragment = {
  name: "counting",
  requires: [pauses],
  c: String.raw`#include <linux/hardirq.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>

struct qt_counter {
	raw_spinlock_t lock;
	u64 *ring;
	u32 size;	/* ring capacity */
	u32 times;	/* N */
	u32 head;
	u32 filled;
	u64 window;	/* D, ns */
};
static struct qt_counter qt_counters[QT_RULES];
static atomic_t qt_dropped; /* occurrences not counted: the ring was busy under an NMI */
static DEFINE_RATELIMIT_STATE(qt_dropped_said, 5 * HZ, 1);

/* Rule r's condition held n times just now: has it held N times within D? */
static int qt_held(int r, u32 n)
{
	struct qt_counter *c = &qt_counters[r];
	u64 now = qt_clock();
	unsigned long flags;
	int held = 0;

	/* With IRQs off, only an NMI can interrupt the lock's holder on this CPU: anywhere else the
	 * holder is another CPU's, a few instructions from unlocking, so wait. In an NMI, spinning
	 * could deadlock: a busy ring drops the occurrence, counted and said (deferred: this may run
	 * under the scheduler's locks). */
	local_irq_save(flags);
	if (in_nmi() ? !raw_spin_trylock(&c->lock) : (raw_spin_lock(&c->lock), 0)) {
		int dropped = atomic_inc_return(&qt_dropped);
		local_irq_restore(flags);
		if (__ratelimit(&qt_dropped_said))
			qt_log_deferred(KERN_WARNING "qtrip: %d occurrence(s) so far not counted: a rule's count was busy in an NMI\n", dropped);
		return 0;
	}
	while (n-- > 0) {
		c->ring[c->head] = now;
		c->head = (c->head + 1) % c->times;
		if (c->filled < c->times)
			c->filled++;
		/* Full: ring[head] is the oldest of the last N. */
		if (c->filled == c->times && now - c->ring[c->head] <= c->window)
			held = 1;
	}
	raw_spin_unlock(&c->lock);
	local_irq_restore(flags);
	return held;
}`,
  stap: String.raw`function qt_set_count(rule:long, times:long, window:long) %{
	qt_counters[STAP_ARG_rule].times = STAP_ARG_times;
	qt_counters[STAP_ARG_rule].window = STAP_ARG_window;
	raw_spin_lock_init(&qt_counters[STAP_ARG_rule].lock);
%}

function qt_dropped_count:long() %{
	STAP_RETURN(atomic_read(&qt_dropped));
%}

probe end {
	qt_dropped = qt_dropped_count()
	if (qt_dropped) printf("qtrip: %d occurrences were not counted (busy in an NMI)\n", qt_dropped)
}`,
};

/** A counting rule's occurrence seen at an event (the in-flight scan counts from C). */
export const countAtEvent: Fragment = {
  name: "counting at events",
  requires: [counting],
  stap: String.raw`function qt_count:long(rule:long, n:long) %{
	STAP_RETURN(qt_held(STAP_ARG_rule, STAP_ARG_n));
%}`,
};
