// Steal time over a sliding window (the selection steal-share), from the guest
// kernel's own accounting: kernel_cpustat's CPUTIME_STEAL, which the kernel adds
// to from KVM's steal-time record (paravirt_steal_clock(), a static call that no
// module may make) at each tick of the CPU and as it leaves idle. It is what
// /proc/stat shows.
//
// Sampled at the CPU's own local timer interrupts, which it has anyway: no timer,
// no wake-up; an idle CPU (no tick) is not sampled, and has no work to be robbed
// of. Each steal rule keeps, per CPU, a ring of eight samples taken an eighth of
// its window apart; at each interrupt the steal since the oldest sample still
// inside the window is compared with the share of the window. The count read at
// an interrupt is the one accounted at the CPU's last tick (the tick of this very
// interrupt is accounted after the probe), so a sample stands for the time of the
// interrupt before it, less two ticks: the steal it adds up is never more than the
// window's, and the rule never trips early.
//
// A count that grew by more than the time it can stand for is a broken steal-time
// record (a host's counter that ran backwards becomes a huge jump in the kernel's
// unsigned accounting): it trips every steal rule on that CPU, since the share it
// shows is above any (the choice is the reference's, docs/language.md).
import type { Fragment } from "../fragment.js";

export function stealShare(rules: number[]): Fragment {
  const slots = Array.from({ length: Math.max(...rules) + 1 }, (_, r) => rules.indexOf(r));
  return {
    name: "steal share",
    c: String.raw`#include <linux/kernel_stat.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>

#define QT_STEAL_RULES ${rules.length}
#define QT_STEAL_SAMPLES 8
/* The least window the guest keeps to (the checker refuses a smaller constant one: E0147); a run-time one below it is raised to it. */
#define QT_STEAL_LEAST_NS (100 * NSEC_PER_MSEC)
/* How far before the interrupt before it the count read at an interrupt may reach back: the tick's accounting, a tick late. */
#define QT_STEAL_LAG_NS (2 * TICK_NSEC)

/* Each rule's ring, by its index (-1: not a steal rule). */
static const int qt_steal_slot[${slots.length}] = { ${slots.join(", ")} };

struct qt_steal_ring {
	u64 since[QT_STEAL_SAMPLES];	/* the steal counted after it is this sample's count and later */
	u64 count[QT_STEAL_SAMPLES];
	unsigned int newest;		/* the last sample written; none yet when since[newest] is 0 */
};

struct qt_steal_cpu {
	u64 at;		/* ns of the CPU's last local timer interrupt */
	u64 since;	/* the count read then is the steal accounted until after this */
	u64 count;	/* and the count */
	u64 jump;	/* ns the count grew beyond what the time allows, at that interrupt (0: none) */
	u64 jump_over;	/* the ns it had for it */
	struct qt_steal_ring ring[QT_STEAL_RULES];
};
static DEFINE_PER_CPU(struct qt_steal_cpu, qt_steal);
static atomic_t qt_steal_said;

/* At each local timer interrupt, on its CPU, once for all rules. */
static void qt_steal_sample(void)
{
	struct qt_steal_cpu *me = this_cpu_ptr(&qt_steal);
	u64 now = ktime_get_mono_fast_ns();
	u64 count = READ_ONCE(kcpustat_this_cpu->cpustat[CPUTIME_STEAL]);
	u64 grew = count - me->count, allowed = now - me->since;
	me->jump = me->since && grew > allowed ? grew - allowed : 0;
	me->jump_over = allowed;
	me->since = me->at > QT_STEAL_LAG_NS ? me->at - QT_STEAL_LAG_NS : 0;
	me->at = now;
	me->count = count;
}

/* floor(ns * percent / 100) (inclusive: the ceiling) without overflow. */
static u64 qt_steal_limit(u64 ns, u64 percent, int inclusive)
{
	u64 rest = ns % 100 * percent;
	return ns / 100 * percent + rest / 100 + (inclusive && rest % 100 ? 1 : 0);
}

/* Rule r's share of its window (qt_threshold[r]) was exceeded on this CPU, or its count jumped. */
static int qt_steal_exceeds(int r, u64 percent, int inclusive)
{
	struct qt_steal_cpu *me = this_cpu_ptr(&qt_steal);
	struct qt_steal_ring *ring;
	u64 window = max(qt_threshold[r], (u64)QT_STEAL_LEAST_NS), stolen = 0, limit;
	unsigned int i, k;
	int held;
	if (r < 0 || r >= ARRAY_SIZE(qt_steal_slot) || qt_steal_slot[r] < 0 || !me->since)
		return 0;
	if (me->jump) {
		if (atomic_cmpxchg(&qt_steal_said, 0, 1) == 0)
			qt_log_deferred(KERN_WARNING "qtrip: steal on cpu %d jumped: it grew %llu ns more than the %llu ns that passed\n",
					smp_processor_id(), me->jump, me->jump_over);
		return 1;
	}
	ring = &me->ring[qt_steal_slot[r]];
	/* The oldest sample still inside the window (the ring runs from newest + 1, the oldest). */
	for (k = 1; k <= QT_STEAL_SAMPLES; k++) {
		i = (ring->newest + k) % QT_STEAL_SAMPLES;
		if (ring->since[i] && me->at - ring->since[i] <= window) {
			stolen = me->count - ring->count[i];
			break;
		}
	}
	limit = qt_steal_limit(window, percent, inclusive);
	held = inclusive ? stolen >= limit : stolen > limit;
	if (held && atomic_cmpxchg(&qt_steal_said, 0, 1) == 0)
		qt_log_deferred(KERN_WARNING "qtrip: steal on cpu %d: %llu ns within the last %llu ns\n", smp_processor_id(), stolen, window);
	/* A new sample an eighth of the window after the newest. */
	if (!ring->since[ring->newest] || me->since - ring->since[ring->newest] >= window / QT_STEAL_SAMPLES) {
		if (ring->since[ring->newest])
			ring->newest = (ring->newest + 1) % QT_STEAL_SAMPLES;
		ring->since[ring->newest] = me->since;
		ring->count[ring->newest] = me->count;
	}
	return held;
}`,
    stap: String.raw`function qt_steal_sample() %{
	qt_steal_sample();
%}

function qt_steal_share:long(rule:long, percent:long, inclusive:long) %{
	STAP_RETURN(qt_steal_exceeds(STAP_ARG_rule, STAP_ARG_percent, STAP_ARG_inclusive));
%}`,
  };
}
