// In-flight tables: things that started and have not ended yet (a system call,
// a request, a function call), in lock-free tables of embedded C, so that a
// filtered-out task pays only for its filter test and no SystemTap lock is taken.
import type { Fragment } from "../fragment.js";

export const inflight: Fragment = {
  name: "in-flight tables",
  c: String.raw`#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/timekeeping.h>

#ifndef QT_INFLIGHT_SLOTS
#define QT_INFLIGHT_SLOTS 4096 /* per table; a power of two; -DQT_INFLIGHT_SLOTS=N to change */
#endif
#define QT_PROBE_RUN 8 /* slots tried for one key */

/* Only the owner (the thread; a request's issuer, then its completer) writes key, start, rules; only the scan, late. */
struct qt_slot {
	atomic_long_t key;	/* 0: free */
	u64 start;		/* ktime_get_mono_fast_ns() at start; 0: being filled or done */
	u64 rules;		/* bit r: rule r's filters matched at start */
	u64 late;		/* bit r: already counted late for rule r ... */
	u64 late_for;		/* ... of the thing that started at this time */
};

static struct qt_slot qt_inflight[QT_TABLES][QT_INFLIGHT_SLOTS];
static atomic_t qt_untracked;	/* starts not timed: a table was full */
static int qt_untracked_said;	/* how many of them the scan has reported */
static u32 qt_newly_late[QT_RULES];		/* filled by qt_scan for the handler */

static inline struct qt_slot *qt_slot_of(int table, long key, int i)
{
	unsigned long h = hash_long((unsigned long)key, ilog2(QT_INFLIGHT_SLOTS));
	return &qt_inflight[table][(h + i) & (QT_INFLIGHT_SLOTS - 1)];
}

static void qt_inflight_start(int table, long key, u64 rules)
{
	struct qt_slot *free = NULL, *s = NULL;
	int i;

	/* Reuse the key's own slot if a missed stop left one behind; else the first free one. */
	for (i = 0; i < QT_PROBE_RUN && !s; i++) {
		struct qt_slot *t = qt_slot_of(table, key, i);
		long owner = atomic_long_read(&t->key);
		if (owner == key)
			s = t;
		else if (owner == 0 && !free)
			free = t;
	}
	if (!s) {
		if (!free || atomic_long_cmpxchg(&free->key, 0, key) != 0) {
			/* Counted here, said by the scan: this may run under the scheduler's locks, where printk can deadlock. */
			atomic_inc(&qt_untracked);
			return;
		}
		s = free;
	}
	WRITE_ONCE(s->start, 0);
	smp_wmb();
	WRITE_ONCE(s->rules, rules);
	smp_wmb();
	WRITE_ONCE(s->start, ktime_get_mono_fast_ns());
}

static void qt_inflight_stop(int table, long key)
{
	int i;
	for (i = 0; i < QT_PROBE_RUN; i++) {
		struct qt_slot *s = qt_slot_of(table, key, i);
		if (atomic_long_read(&s->key) == key) {
			WRITE_ONCE(s->start, 0);
			smp_wmb();
			atomic_long_set(&s->key, 0);
			return;
		}
	}
}

/* Marks what crossed a rule's threshold (rules of the mask only); qt_newly_late[r] counts them. Returns the rules with any. */
static u64 qt_scan(int table, u64 table_rules)
{
	u64 now = ktime_get_mono_fast_ns(), found = 0;
	int i, r, untracked = atomic_read(&qt_untracked);

	/* A trip-wire that stops seeing says so while armed (the timer's context may printk). */
	if (untracked != qt_untracked_said && printk_ratelimit() && (qt_untracked_said = untracked))
		printk(KERN_WARNING "qtrip: %d starts not timed so far: an in-flight table is full (raise -DQT_INFLIGHT_SLOTS)\n", untracked);
	for (r = 0; r < QT_RULES; r++)
		qt_newly_late[r] = 0;
	for (i = 0; i < QT_INFLIGHT_SLOTS; i++) {
		struct qt_slot *s = &qt_inflight[table][i];
		u64 start, rules, late;

		if (!atomic_long_read(&s->key))
			continue;
		start = READ_ONCE(s->start);
		if (!start || now <= start)
			continue;
		smp_rmb();
		rules = READ_ONCE(s->rules) & table_rules;
		late = READ_ONCE(s->late_for) == start ? READ_ONCE(s->late) : 0;
		for (r = 0; r < QT_RULES; r++) {
			u64 bit = 1ULL << r;
			if (!(rules & bit) || (late & bit) || now - start <= qt_threshold[r])
				continue;
			smp_rmb();
			if (READ_ONCE(s->start) != start) /* it ended meanwhile */
				break;
			late |= bit;
			qt_newly_late[r]++;
			found |= bit;
		}
		if (late) {
			WRITE_ONCE(s->late, late);
			WRITE_ONCE(s->late_for, start);
		}
	}
	return found;
}`,
  stap: String.raw`function qt_start(table:long, key:long, rules:long) %{
	qt_inflight_start(STAP_ARG_table, STAP_ARG_key, STAP_ARG_rules);
%}

function qt_stop(table:long, key:long) %{
	qt_inflight_stop(STAP_ARG_table, STAP_ARG_key);
%}

function qt_scan_table:long(table:long, rules:long) %{
	STAP_RETURN(atomic_read(&qt_tripped) ? 0 : qt_scan(STAP_ARG_table, STAP_ARG_rules));
%}`,
};

/** How many things crossed a rule's threshold in the last scan: the occurrences of a counting rule. */
export const lateCount: Fragment = {
  name: "late counts",
  requires: [inflight],
  stap: String.raw`function qt_late_count:long(rule:long) %{
	STAP_RETURN(qt_newly_late[STAP_ARG_rule]);
%}`,
};
