// In-flight tables: things that started and have not ended yet (a system call,
// a request, a function call), in lock-free tables of embedded C, so that a
// filtered-out task pays only for its filter test and no SystemTap lock is taken.
// Each table has a one-shot hrtimer armed for the earliest moment something in
// it could cross a threshold, and off while nothing is in flight: the watcher
// wakes no CPU that has nothing to do (fragments/scan-timer.ts has its callback).
import type { Fragment } from "../fragment.js";
import { neighbour } from "./neighbour.js";
import { pauses } from "./pauses.js";

export const inflight: Fragment = {
  name: "in-flight tables",
  requires: [neighbour, pauses],
  c: String.raw`#include <linux/hash.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/log2.h>
#include <linux/timekeeping.h>

#ifndef QT_INFLIGHT_SLOTS
#define QT_INFLIGHT_SLOTS 4096 /* per table; a power of two; -DQT_INFLIGHT_SLOTS=N to change */
#endif
#define QT_PROBE_RUN 8 /* slots tried for one key */

/* Only the owner (the thread; a request's issuer, then its completer) writes key, start, rules; only the scan, late. */
struct qt_slot {
	atomic_long_t key;	/* 0: free */
	u64 start;		/* qt_clock() at start; 0: being filled or done */
	u64 rules;		/* bit r: rule r's filters matched at start */
	u64 late;		/* bit r: already counted late for rule r ... */
	u64 late_for;		/* ... of the thing that started at this time */
	unsigned long frame;	/* a function call's: where its return address is on the stack (fragments/return-probes.ts); else 0 */
};

static struct qt_slot qt_inflight[QT_TABLES][QT_INFLIGHT_SLOTS];
static atomic_t qt_occupied[QT_TABLES];	/* slots in use: a stop of an empty table (every unwatched task's) is one load */
static atomic_t qt_untracked;	/* starts not timed: every slot their key may use was taken */
static int qt_untracked_said;	/* how many of them the scan has reported */

/*
 * A table's scan timer (fragments/scan-timer.ts): due is when it fires, S64_MAX while off or scanning; else it only
 * moves earlier. It runs on the neighbour of the CPU that moved it earlier last (fragments/neighbour.ts): what is
 * overdue there, a call on a vCPU the hypervisor does not run, is seen while it lasts.
 */
struct qt_scan_timer {
	struct hrtimer timer;	/* pinned to the CPU that programmed it last */
	struct irq_work program;	/* asks from where no cross-CPU call may start (NMI), or programs it on this CPU (the only one) from IRQs off */
	call_single_data_t remote;	/* programs it on the neighbour */
	atomic_t calling;	/* 1: a call on its way, which programs what is due when it runs */
	atomic64_t due;
	int table;
};
static struct qt_scan_timer qt_timers[QT_TABLES];

/* Programs the timer for its due time, on this CPU; racing programmers loop until the last one programmed what is due. */
static void qt_program(struct qt_scan_timer *t)
{
	s64 due = atomic64_read(&t->due), programmed;
	do {
		if (due == S64_MAX)
			return;
		programmed = due;
		hrtimer_start(&t->timer, ns_to_ktime(qt_kernel_time(programmed)), HRTIMER_MODE_ABS_PINNED_HARD);
		due = atomic64_read(&t->due);
	} while (due != programmed);
}

/* On the neighbour (hard-IRQ context): programs what is due, then again if it moved before the call was over. */
static void qt_program_here(void *info)
{
	struct qt_scan_timer *t = info;
	s64 programmed;
	do {
		qt_program(t);
		programmed = atomic64_read(&t->due);
		atomic_set(&t->calling, 0);
		smp_mb(); /* the flag off before the look at due (a requester looks the other way) */
	} while (atomic64_read(&t->due) != programmed && atomic_cmpxchg(&t->calling, 0, 1) == 0);
}

/*
 * The due time moved earlier: the neighbour programs it (a call on its way already will). With no neighbour, this
 * CPU does, but not with IRQs off where a probe may run under its timer base's lock: its IRQ work does then.
 */
static void qt_program_away(struct qt_scan_timer *t, int from_work)
{
	int w = qt_neighbour(smp_processor_id());
	if (w < 0) {
		if (irqs_disabled() && !from_work)
			irq_work_queue(&t->program);
		else
			qt_program(t);
		return;
	}
	smp_mb(); /* the due time before the look at the flag */
	if (!atomic_read(&t->calling) && atomic_cmpxchg(&t->calling, 0, 1) == 0)
		smp_call_function_single_async(w, &t->remote);
}

static void qt_program_work(struct irq_work *work)
{
	qt_program_away(container_of(work, struct qt_scan_timer, program), 1);
}

/* Moves the timer's due time earlier; true when it did (the caller then programs it). */
static int qt_due_earlier(struct qt_scan_timer *t, s64 due)
{
	s64 now_due = atomic64_read(&t->due);
	do {
		if (due >= now_due)
			return 0;
	} while (!atomic64_try_cmpxchg(&t->due, &now_due, due));
	return 1;
}

/* A table's scan is due by then (qtrip's clock): its timer moves earlier if it was due later, from any context. */
static void qt_due_by(int table, s64 due)
{
	if (qt_due_earlier(&qt_timers[table], due)) {
		if (in_nmi())
			irq_work_queue(&qt_timers[table].program);
		else
			qt_program_away(&qt_timers[table], 0);
	}
}

static inline struct qt_slot *qt_slot_of(int table, long key, int i)
{
	unsigned long h = hash_long((unsigned long)key, ilog2(QT_INFLIGHT_SLOTS));
	return &qt_inflight[table][(h + i) & (QT_INFLIGHT_SLOTS - 1)];
}

static void qt_inflight_start(int table, long key, u64 rules, unsigned long frame)
{
	struct qt_slot *s = NULL;
	u64 start, first = U64_MAX;
	int i;
	if (!key) /* 0 marks a free slot: the idle tasks' thread id, never timed */
		return;

	/* The key's own slot if a missed stop left one behind; else a free one (a CAS lost to another CPU's start moves on). */
	for (i = 0; i < QT_PROBE_RUN && !s; i++) {
		struct qt_slot *t = qt_slot_of(table, key, i);
		if (atomic_long_read(&t->key) == key)
			s = t;
	}
	for (i = 0; i < QT_PROBE_RUN && !s; i++) {
		struct qt_slot *t = qt_slot_of(table, key, i);
		if (atomic_long_read(&t->key) == 0 && atomic_long_cmpxchg(&t->key, 0, key) == 0) {
			s = t;
			atomic_inc(&qt_occupied[table]);
		}
	}
	if (!s) {
		/* Every slot this key may use is taken. Counted, said by the scan: this may run under the scheduler's locks. */
		atomic_inc(&qt_untracked);
		return;
	}
	WRITE_ONCE(s->start, 0);
	smp_wmb();
	WRITE_ONCE(s->rules, rules);
	WRITE_ONCE(s->frame, frame);
	smp_wmb();
	WRITE_ONCE(s->start, start = qt_clock());
	/* Due by the first of its rules' thresholds. The slot before the due time: a scan that turns the timer off sees it. */
	for (i = 0; i < QT_RULES; i++)
		if ((rules >> i & 1) && qt_threshold[i] < first)
			first = qt_threshold[i];
	smp_mb();
	qt_due_by(table, start + first + 1);
}

static void qt_inflight_stop(int table, long key)
{
	int i;
	/* Key 0 (the idle task switched in) matches free slots: counted freed, the count reaches 0 with things in flight. */
	if (!key || !atomic_read(&qt_occupied[table]))
		return;
	for (i = 0; i < QT_PROBE_RUN; i++) {
		struct qt_slot *s = qt_slot_of(table, key, i);
		if (atomic_long_read(&s->key) == key) {
			WRITE_ONCE(s->start, 0);
			smp_wmb();
			atomic_long_set(&s->key, 0);
			atomic_dec(&qt_occupied[table]);
			return;
		}
	}
}`,
  stap: String.raw`function qt_stop(table:long, key:long) %{
	qt_inflight_stop(STAP_ARG_table, STAP_ARG_key);
%}`,
};

/** A start at an event that is not a call timed to a return probe (fragments/return-probes.ts has that one). */
export const startAtEvent: Fragment = {
  name: "in-flight starts",
  requires: [inflight],
  stap: String.raw`function qt_start(table:long, key:long, rules:long) %{
	qt_inflight_start(STAP_ARG_table, STAP_ARG_key, STAP_ARG_rules, 0);
%}`,
};
