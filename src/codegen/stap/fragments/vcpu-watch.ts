// A vCPU that the hypervisor does not run, seen by another vCPU while it is still not
// run (the selection progress-watched).
//
// Each busy CPU stamps its progress at its ticks (and as it leaves idle); an idle,
// offline or nohz_full CPU has no stamp and is not watched. Each CPU's neighbour (the
// previous online CPU) keeps a pinned one-shot hrtimer due when that stamp would be D
// old: while the CPU runs, its stamp moves on and the timer only re-arms (one wake-up
// per D on the neighbour); when it stops, the timer finds the stamp stale. The
// watched CPU never touches its neighbour's timer: it asks the neighbour to arm it
// (an asynchronous cross-CPU call: irq_work_queue_on() is not exported) when it is off,
// so no CPU takes a lock of a CPU that may be the one stalled.
//
// A pause of the whole guest (SIGSTOP of the VMM, a TSC clocksource through a QMP
// stop) stops the neighbour too: its timer then fires late, or finds the CPU stale
// at the resume before that CPU's first tick back. A neighbour whose look comes late
// (by half the threshold) was not run on time itself, and vouches for the CPU's
// silence only from then; and a stale stamp is confirmed by a second, on-time look
// two ticks later: a CPU that runs ticks in between, and so does a paused guest's
// CPU once the guest runs again.
import type { Fragment } from "../fragment.js";
import { counting } from "./counting.js";
import { delays } from "./core.js";
import { neighbour } from "./neighbour.js";
import { pauses } from "./pauses.js";

const progress: Fragment = {
  name: "vcpu watch",
  requires: [neighbour, pauses],
  probes: ['kernel.trace("power:cpu_idle")', 'kernel.trace("cpuhp:cpuhp_enter")'],
  c: String.raw`#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/smp.h>
#include <linux/jiffies.h>
#include <linux/percpu.h>
#include <linux/tick.h>
#include <linux/timekeeping.h>

/* A stale stamp is confirmed this long after it is first seen, by a look that is itself on time. */
#define QT_WATCH_CONFIRM_NS (2 * TICK_NSEC)
/* The least threshold the timer keeps to (the checker refuses a smaller constant one: E0147); a run-time one below it is raised to it. */
#define QT_WATCH_LEAST_NS (10 * NSEC_PER_MSEC)

struct qt_watch {
	/* Written by the CPU itself (and by cpuhp for it): its progress. */
	u64 stamp;		/* ns of its last tick while busy; 0: idle, offline, nohz_full or not watched */
	u64 rules;		/* bit r: rule r's filters matched at its ticks */
	/* Owned by the CPU as a watcher of the next online CPU. */
	struct hrtimer timer;	/* pinned to this CPU */
	call_single_data_t arm;	/* the watched CPU asks for the timer (a call on this CPU) */
	atomic_t armed;		/* 1: the timer is set, or about to be */
	atomic_t calling;	/* 1: the call that sets it is on its way (the module waits for it before it goes) */
	u64 vouch_from;		/* it ran on time since then: a look of its own came late, so before it nothing is known */
	u64 stale_seen;		/* when it last saw the watched CPU stale (0: not stale) ... */
	u64 stale_stamp;	/* ... and the stamp it saw then */
	u64 counted_stamp;	/* the stall (by its stamp) already counted for a counting rule */
};
static DEFINE_PER_CPU(struct qt_watch, qt_watch);
static int qt_watch_on;	/* set once the timers are set up, cleared before they are cancelled */

static char qt_watch_labels[QT_RULES][MAXSTRINGLEN];

/* Whether rule r trips on a stall seen now; defined with the script's rules (their delays, their counts). */
static int qt_watch_trips(int r, u64 now, int new_stall);

/* The next online CPU after cpu, wrapping; -1 when cpu is the only one. */
static int qt_watch_next(int cpu)
{
	int next = cpumask_next(cpu, cpu_online_mask);
	if (next >= nr_cpu_ids)
		next = cpumask_first(cpu_online_mask);
	return next == cpu || next >= nr_cpu_ids ? -1 : next;
}

/* The earliest moment one of the watched CPU's rules could find it stale. */
static u64 qt_watch_due(u64 stamp, u64 rules)
{
	u64 first = U64_MAX;
	int r;
	for (r = 0; r < QT_RULES; r++)
		if ((rules >> r & 1) && qt_threshold[r] < first)
			first = qt_threshold[r];
	return first == U64_MAX ? 0 : stamp + max(first, (u64)QT_WATCH_LEAST_NS) + 1;
}

/* Makes sure cpu's watcher has its timer: asks it (a call on that CPU) only when the timer is off. */
static void qt_watch_ensure(int cpu)
{
	int w = qt_neighbour(cpu); /* its watcher */
	struct qt_watch *ww;
	if (w < 0)
		return;
	ww = per_cpu_ptr(&qt_watch, w);
	/* -EBUSY: the last call has not run yet; it will see this stamp. */
	if (!atomic_read(&ww->armed) && atomic_cmpxchg(&ww->armed, 0, 1) == 0) {
		atomic_set(&ww->calling, 1);
		smp_call_function_single_async(w, &ww->arm);
	}
}

/* Set up and not tripped yet. */
static int qt_watch_live(void)
{
	return READ_ONCE(qt_watch_on) && !atomic_read(&qt_tripped);
}

/* The watched CPU's progress, on that CPU, at its ticks. */
static void qt_watch_progress(u64 rules)
{
	struct qt_watch *me = this_cpu_ptr(&qt_watch);
	int cpu = smp_processor_id();
	if (!qt_watch_live() || !rules)
		return;
	/* A nohz_full CPU that runs one task has no tick at all: its silence says nothing. */
	if (tick_nohz_full_cpu(cpu))
		return;
	if ((READ_ONCE(me->rules) & rules) != rules)
		WRITE_ONCE(me->rules, READ_ONCE(me->rules) | rules);
	WRITE_ONCE(me->stamp, qt_clock());
	smp_mb(); /* the stamp before the look at the watcher's timer (its disarm looks the other way) */
	qt_watch_ensure(cpu);
}

/*
 * The watcher's decision, in hard-IRQ context on the watcher: the time its timer is due
 * next, or 0 to turn it off (the watched CPU has no stamp). Trips a rule whose stall is
 * confirmed.
 */
static u64 qt_watch_look(struct qt_watch *me, u64 expected)
{
	u64 now = qt_clock(), stamp, rules, late, since, due, next, least;
	int cpu = qt_watch_next(smp_processor_id()), r;
	struct qt_watch *x;
	if (cpu < 0)
		return 0;
	x = per_cpu_ptr(&qt_watch, cpu);
	stamp = READ_ONCE(x->stamp);
	rules = READ_ONCE(x->rules);
	least = stamp ? qt_watch_due(0, rules) : 0; /* the smallest threshold of its rules, + 1; 0: none */
	if (!least)
		return 0;
	/*
	 * A look that comes late by half the smallest threshold or more says this CPU was not run
	 * on time either (a pause of the whole guest): it vouches for the watched CPU's silence
	 * only from now. A loaded host's few ms late do not count.
	 */
	late = now > expected ? now - expected : 0;
	if (late >= (least - 1) / 2)
		me->vouch_from = now;
	since = max(stamp, me->vouch_from);
	due = qt_watch_due(since, rules);
	if (now < due) { /* it made progress, or this CPU vouches for too little yet: look again then */
		me->stale_seen = 0;
		return due;
	}
	/*
	 * Stale. Confirmed by a second look QT_WATCH_CONFIRM_NS later that comes on time and
	 * finds the same stamp: a running CPU ticks in between, and so does one that a pause of
	 * the whole guest stopped, once the guest runs again.
	 */
	if (!me->stale_seen || me->stale_stamp != stamp || late > QT_WATCH_CONFIRM_NS) {
		me->stale_seen = now;
		me->stale_stamp = stamp;
		return now + QT_WATCH_CONFIRM_NS;
	}
	next = U64_MAX;
	for (r = 0; r < QT_RULES; r++) {
		if (!(rules >> r & 1))
			continue;
		if (now - since <= max(qt_threshold[r], (u64)QT_WATCH_LEAST_NS)) { /* a longer threshold: not yet */
			next = min(next, since + max(qt_threshold[r], (u64)QT_WATCH_LEAST_NS) + 1);
			continue;
		}
		if (qt_watch_trips(r, now, me->counted_stamp != stamp)) {
			qt_trip(qt_watch_labels[r]);
			return 0;
		}
	}
	me->counted_stamp = stamp;
	/* A counting or delayed rule that does not trip yet: look again at most D later, while it lasts. */
	return min(next, now + (due - since));
}

static enum hrtimer_restart qt_watch_fire(struct hrtimer *timer)
{
	struct qt_watch *me = container_of(timer, struct qt_watch, timer);
	u64 next;
	next = qt_watch_live() ? qt_watch_look(me, ktime_to_ns(hrtimer_get_expires(timer)) - atomic64_read(&qt_paused)) : 0;
	if (!next) {
		/* Off, then a second look: a CPU that stamped before seeing it off is seen here. */
		atomic_set(&me->armed, 0);
		smp_mb();
		next = qt_watch_live() ? qt_watch_look(me, qt_clock()) : 0;
		if (!next || atomic_cmpxchg(&me->armed, 0, 1) != 0)
			return HRTIMER_NORESTART;
	}
	hrtimer_set_expires(timer, ns_to_ktime(qt_kernel_time(next)));
	return HRTIMER_RESTART;
}

/* On the watcher, asked for by the CPU it watches (hard-IRQ context): the timer on, due at the first moment. */
static void qt_watch_arm(void *info)
{
	struct qt_watch *me = info;
	u64 next = qt_watch_live() ? qt_watch_look(me, qt_clock()) : 0;
	if (!next)
		atomic_set(&me->armed, 0);
	else
		hrtimer_start(&me->timer, ns_to_ktime(qt_kernel_time(next)), HRTIMER_MODE_ABS_PINNED_HARD);
	atomic_set(&me->calling, 0);
}`,
  stap: String.raw`function qt_set_watch_label(rule:long, label:string) %{
	strscpy(qt_watch_labels[STAP_ARG_rule], STAP_ARG_label, MAXSTRINGLEN);
%}

/* This CPU's progress for the rules of the mask, at its tick; never true: its watcher trips, from another CPU. */
function qt_vcpu_progress:long(rules:long) %{
	qt_watch_progress(STAP_ARG_rules);
	STAP_RETURN(0);
%}

# An idle CPU has nothing to run: not watched; leaving idle is progress.
probe kernel.trace("power:cpu_idle") {
	qt_watch_idle($state)
}

function qt_watch_idle(state:long) %{
	struct qt_watch *me = this_cpu_ptr(&qt_watch);
	/* power:cpu_idle reports (u32)-1 when the CPU leaves idle. */
	/* Leaving idle stamps (a watcher already on sees it run); no cross-CPU call from the idle loop. */
	if ((u32)STAP_ARG_state != (u32)-1)
		WRITE_ONCE(me->stamp, 0);
	else if (READ_ONCE(me->rules) && READ_ONCE(qt_watch_on) && !tick_nohz_full_cpu(smp_processor_id()))
		WRITE_ONCE(me->stamp, qt_clock());
%}

# An offline CPU is not watched: each hotplug step of a CPU forgets its progress.
probe kernel.trace("cpuhp:cpuhp_enter") {
	qt_watch_hotplug($cpu)
}

function qt_watch_hotplug(cpu:long) %{
	if (STAP_ARG_cpu >= 0 && STAP_ARG_cpu < nr_cpu_ids)
		WRITE_ONCE(per_cpu_ptr(&qt_watch, STAP_ARG_cpu)->stamp, 0);
%}

# The timers: set up before any probe can stamp, cancelled once the probes are gone (end probes run then).
probe begin(-1) { qt_watch_timers(1) }
probe end { qt_watch_timers(0) }

function qt_watch_timers(on:long) %{
	int cpu;
	if (!STAP_ARG_on) {
		WRITE_ONCE(qt_watch_on, 0);
		smp_mb();
	}
	for_each_possible_cpu(cpu) {
		struct qt_watch *w = per_cpu_ptr(&qt_watch, cpu);
		if (STAP_ARG_on) {
			hrtimer_init(&w->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_PINNED_HARD);
			w->timer.function = qt_watch_fire;
			w->arm.func = qt_watch_arm;
			w->arm.info = w;
			atomic_set(&w->armed, 0);
			atomic_set(&w->calling, 0);
		} else {
			/* A call still on its way finds the watch off and arms nothing; it is waited for, its code being the module's. */
			qt_neighbour_calls_wait(&w->calling);
			hrtimer_cancel(&w->timer);
		}
	}
	if (STAP_ARG_on) {
		smp_mb();
		WRITE_ONCE(qt_watch_on, 1);
	}
%}`,
};

export interface WatchRules {
  /** Bit r: rule r's stalls are counted (`N times within D`) before it trips. */
  counted: bigint;
  /** Bit r: part r belongs to a sequence; a stall counts there once, when first seen (fragments/sequences.ts). */
  sequenced: bigint;
  /** Some rule has an `after D` delay. */
  delayed: boolean;
}

/** The watch, with the verdict for the script's rules: their delays and their counts. */
export function vcpuWatch({ counted, sequenced, delayed }: WatchRules): Fragment {
  const checks = [
    ...(delayed ? ["\tif (qt_after[r] && now - qt_armed_at < qt_after[r])\n\t\treturn 0;"] : []),
    ...(sequenced ? [`\tif ((0x${sequenced.toString(16)}ULL >> r & 1) && !(new_stall && qt_sequence_holds(r)))\n\t\treturn 0;`] : []),
    ...(counted ? [`\tif (0x${counted.toString(16)}ULL >> r & 1)\n\t\treturn new_stall && qt_held(r, 1);`] : []),
  ];
  return {
    name: "vcpu watch verdicts",
    requires: [progress, ...(counted ? [counting] : []), ...(delayed ? [delays] : [])],
    c: String.raw`/* Rule r's delay is over${sequenced ? ", a sequence's stall (each seen once) falls in its window" : ""}${counted ? ", and a counting rule's stall (each counted once) makes its count" : ""}. */
static int qt_watch_trips(int r, u64 now, int new_stall)
{
${[...checks, "\treturn 1;"].join("\n")}
}`,
  };
}

/** The part the selection's lowering names (its probes, for readers); the emitter adds the verdicts. */
export const vcpuProgress = progress;
