// The embedded C that every guest script carries: qtrip's in-flight tables,
// occurrence counting and the trip itself. Probe handlers call it through the
// small SystemTap functions below; it takes no SystemTap locks, so a filtered-out
// task pays only for its filter test and an untracked lookup.
//
// Nothing from a rule file is ever spliced into this text: the emitter passes
// only numbers it computed itself (#defines), and strings as SystemTap
// function arguments.

export const GUEST_RUNTIME_C = String.raw`%{
#include <linux/atomic.h>
#include <linux/compat.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <asm/io.h>

#ifndef QT_INFLIGHT_SLOTS
#define QT_INFLIGHT_SLOTS 4096 /* per table; a power of two; -DQT_INFLIGHT_SLOTS=N to change */
#endif
#define QT_PROBE_RUN 8 /* slots tried for one key */

/*
 * One thing in flight (a system call, a request, a function call). Only the
 * owner (the thread, or the request's issuer and completer in order) writes
 * key, start and rules; only the scan writes late and late_for.
 */
struct qt_slot {
	atomic_long_t key;	/* 0: free */
	u64 start;		/* ktime_get_mono_fast_ns() at start; 0: being filled or done */
	u64 rules;		/* bit r: rule r's filters matched at start */
	u64 late;		/* bit r: already counted late for rule r ... */
	u64 late_for;		/* ... of the call that started at this time */
};

static struct qt_slot qt_inflight[QT_TABLES][QT_INFLIGHT_SLOTS];
static atomic_t qt_untracked[QT_TABLES];	/* starts not timed: table full */
static u64 qt_threshold[QT_RULES];		/* ns; rule r trips on age > (or >=) this */
static u64 qt_threshold_inclusive;		/* bit r: '>=' */
static u32 qt_newly_late[QT_RULES];		/* filled by qt_scan for the handler */

/* N times within D: the last N times a rule's condition held. */
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
static u64 qt_after[QT_RULES];		/* ns after arming before rule r may trip */
static atomic_t qt_dropped;		/* occurrences lost to lock contention */
static atomic_t qt_tripped;
static u64 qt_armed_at;

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
	for (i = 0; i < QT_PROBE_RUN; i++) {
		struct qt_slot *t = qt_slot_of(table, key, i);
		long owner = atomic_long_read(&t->key);
		if (owner == key) { s = t; break; }
		if (owner == 0 && !free) free = t;
	}
	if (!s) {
		if (!free || atomic_long_cmpxchg(&free->key, 0, key) != 0) {
			atomic_inc(&qt_untracked[table]);
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

/* Marks calls of 'table' that crossed a rule's threshold; qt_newly_late[r] counts them. Returns the rules with any. */
static u64 qt_scan(int table, u64 table_rules)
{
	u64 now = ktime_get_mono_fast_ns(), found = 0;
	int i, r;

	for (r = 0; r < QT_RULES; r++) {
		if (!(table_rules & (1ULL << r)))
			continue;
		qt_newly_late[r] = 0;
		/* Inside its 'after' delay a rule marks nothing: a call still running when the delay ends counts then. */
		if (qt_after[r] && now - qt_armed_at < qt_after[r])
			table_rules &= ~(1ULL << r);
	}
	for (i = 0; i < QT_INFLIGHT_SLOTS; i++) {
		struct qt_slot *s = &qt_inflight[table][i];
		u64 start, rules, late, age;
		long key = atomic_long_read(&s->key);

		if (!key)
			continue;
		start = READ_ONCE(s->start);
		if (!start || now <= start)
			continue;
		smp_rmb();
		rules = READ_ONCE(s->rules) & table_rules;
		late = READ_ONCE(s->late_for) == start ? READ_ONCE(s->late) : 0;
		age = now - start;
		for (r = 0; r < QT_RULES; r++) {
			u64 bit = 1ULL << r;
			if (!(rules & bit) || (late & bit))
				continue;
			if (age > qt_threshold[r] || ((qt_threshold_inclusive & bit) && age == qt_threshold[r])) {
				smp_rmb();
				if (READ_ONCE(s->start) != start) /* it ended meanwhile */
					break;
				late |= bit;
				qt_newly_late[r]++;
				found |= bit;
			}
		}
		if (late) {
			WRITE_ONCE(s->late, late);
			WRITE_ONCE(s->late_for, start);
		}
	}
	return found;
}

/* The condition of rule r held n times just now: does the rule trip? */
static int qt_held(int r, u32 n)
{
	struct qt_counter *c = &qt_counters[r];
	u64 now = ktime_get_mono_fast_ns();
	unsigned long flags;
	int trip = 0;

	if (qt_after[r] && now - qt_armed_at < qt_after[r])
		return 0;
	if (c->times <= 1)
		return n > 0;
	/* A trylock: probes may run in NMI context, where spinning could deadlock. */
	local_irq_save(flags);
	if (!raw_spin_trylock(&c->lock)) {
		local_irq_restore(flags);
		atomic_inc(&qt_dropped);
		return 0;
	}
	while (n-- > 0) {
		c->ring[c->head] = now;
		c->head = (c->head + 1) % c->times;
		if (c->filled < c->times)
			c->filled++;
		/* Full: ring[head] is the oldest of the last N. */
		if (c->filled == c->times && now - c->ring[c->head] <= c->window)
			trip = 1;
	}
	raw_spin_unlock(&c->lock);
	local_irq_restore(flags);
	return trip;
}

/* Does a value reach rule r's threshold? */
static int qt_exceeds(int r, u64 value)
{
	return value > qt_threshold[r] || ((qt_threshold_inclusive & (1ULL << r)) && value == qt_threshold[r]);
}

/* A console line (not NUL-terminated) contains needle. qtrip's own lines never count. */
static int qt_line_contains(const char *text, long len, const char *needle)
{
	if (!text || len <= 0 || !*needle)
		return 0;
	if (strnstr(text, "qtrip: ", len))
		return 0;
	return strnstr(text, needle, len) != NULL;
}

/* Tick gaps, per CPU: the time of its previous tick, 0 while it is idle (NO_HZ: no ticks). */
static DEFINE_PER_CPU(u64, qt_last_tick);

static u64 qt_gap_since_last_tick(void)
{
	u64 now = ktime_get_mono_fast_ns(), last = this_cpu_read(qt_last_tick);
	this_cpu_write(qt_last_tick, now);
	return last && now > last ? now - last : 0;
}

static void qt_idle_change(u32 state)
{
	/* power:cpu_idle reports (u32)-1 when the CPU leaves idle: the clock restarts then. */
	this_cpu_write(qt_last_tick, state == (u32)-1 ? ktime_get_mono_fast_ns() : 0);
}

static void qt_trip(const char *label)
{
	if (atomic_cmpxchg(&qt_tripped, 0, 1) != 0)
		return;
#if QT_DRY_RUN
	printk(KERN_EMERG "qtrip: tripped (dry run, port not written): %s\n", label);
#else
	printk(KERN_EMERG "qtrip: tripped: %s: writing 0x%02x to port 0x%x\n", label, QT_CHANNEL_VALUE, QT_CHANNEL_PORT);
	/* The last act: the vCPU exits to the hypervisor on this instruction. */
	outb(QT_CHANNEL_VALUE, QT_CHANNEL_PORT);
#endif
}
%}

function qt_start(table:long, key:long, rules:long) %{
	qt_inflight_start(STAP_ARG_table, STAP_ARG_key, STAP_ARG_rules);
%}

function qt_stop(table:long, key:long) %{
	qt_inflight_stop(STAP_ARG_table, STAP_ARG_key);
%}

function qt_scan_table:long(table:long, rules:long) %{
	STAP_RETURN(atomic_read(&qt_tripped) ? 0 : qt_scan(STAP_ARG_table, STAP_ARG_rules));
%}

function qt_late_count:long(rule:long) %{
	STAP_RETURN(qt_newly_late[STAP_ARG_rule]);
%}

function qt_condition_held:long(rule:long, n:long) %{
	STAP_RETURN(qt_held(STAP_ARG_rule, STAP_ARG_n));
%}

function qt_trip_rule(label:string) %{
	qt_trip(STAP_ARG_label);
%}

function qt_exceeds:long(rule:long, value:long) %{
	STAP_RETURN(qt_exceeds(STAP_ARG_rule, STAP_ARG_value));
%}

function qt_text_contains:long(text:long, len:long, needle:string) %{
	STAP_RETURN(qt_line_contains((const char *)(unsigned long)STAP_ARG_text, STAP_ARG_len, STAP_ARG_needle));
%}

function qt_tick_gap:long() %{
	STAP_RETURN(qt_gap_since_last_tick());
%}

function qt_cpu_idle(state:long) %{
	qt_idle_change(STAP_ARG_state);
%}

/*
 * SystemTap 4.8 resolves kprobe.module() symbols by walking kallsyms_on_each_symbol(),
 * which covers only vmlinux on 6.x kernels, and then skips the probe without a word.
 * Without that walker it hands "MODULE:NAME" to register_kprobe(), and the kernel
 * resolves it. Called from the begin probe: begin probes run before kprobes are registered.
 */
function qt_kernel_resolves_module_symbols() %{
	_stp_kallsyms_on_each_symbol = NULL;
%}

function qt_compat_task:long() %{
	STAP_RETURN(in_compat_syscall());
%}

/* Set once, from the begin probe, before any other probe is registered. */
function qt_arm_rule(rule:long, threshold:long, inclusive:long, times:long, window:long, after:long) %{
	int r = STAP_ARG_rule;
	qt_threshold[r] = STAP_ARG_threshold;
	if (STAP_ARG_inclusive)
		qt_threshold_inclusive |= 1ULL << r;
	qt_counters[r].times = STAP_ARG_times;
	qt_counters[r].window = STAP_ARG_window;
	qt_after[r] = STAP_ARG_after;
	raw_spin_lock_init(&qt_counters[r].lock);
%}

function qt_arm:string() %{
	int r;
	for (r = 0; r < QT_RULES; r++) {
		if (qt_counters[r].times > 1 && qt_counters[r].times > qt_counters[r].size) {
			snprintf(STAP_RETVALUE, MAXSTRINGLEN, "rule %d: N of 'N times within' is %u; at most %u",
				 r, qt_counters[r].times, qt_counters[r].size);
			return;
		}
	}
	qt_armed_at = ktime_get_mono_fast_ns();
%}

function qt_build_warnings:string() %{
#ifndef STP_NO_OVERLOAD
	strlcat(STAP_RETVALUE, "no -DSTP_NO_OVERLOAD: may stop under load. ", MAXSTRINGLEN);
#endif
#if !defined(MAXSKIPPED) || MAXSKIPPED < 1000000
	strlcat(STAP_RETVALUE, "no -DMAXSKIPPED=1000000: stops after 100 skipped probes.", MAXSTRINGLEN);
#endif
%}

function qt_log_armed(rules:long, case_id:string) %{
	printk(KERN_INFO "qtrip: armed: %lld rule(s), case '%s'%s\n", (long long)STAP_ARG_rules, STAP_ARG_case_id,
	       QT_DRY_RUN ? ", dry run" : "");
%}

function qt_untracked_count:long() %{
	int t, total = 0;
	for (t = 0; t < QT_TABLES; t++)
		total += atomic_read(&qt_untracked[t]);
	STAP_RETURN(total);
%}

function qt_dropped_count:long() %{
	STAP_RETURN(atomic_read(&qt_dropped));
%}
`;

/** Parses a run-time duration parameter ("20ms", "1.5s"); -1 when it is not one. */
export const DURATION_PARSER_C = String.raw`function qt_parse_duration:long(text:string) %{
	const char *p = STAP_ARG_text;
	u64 whole = 0, fraction = 0, scale = 1, unit = 0;
	int digits = 0, fraction_digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > 922337203685ULL) { STAP_RETURN(-1); }
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fraction_digits++) {
			if (fraction_digits >= 9) { STAP_RETURN(-1); }
			fraction = fraction * 10 + (*p - '0');
			scale *= 10;
		}
		if (!fraction_digits) { STAP_RETURN(-1); }
	}
	if (!digits) { STAP_RETURN(-1); }
	if (!strcmp(p, "ns")) unit = 1;
	else if (!strcmp(p, "us")) unit = 1000;
	else if (!strcmp(p, "ms")) unit = 1000000;
	else if (!strcmp(p, "s")) unit = 1000000000ULL;
	else if (!strcmp(p, "m")) unit = 60000000000ULL;
	else if (!strcmp(p, "h")) unit = 3600000000000ULL;
	else { STAP_RETURN(-1); }
	if (whole > (u64)S64_MAX / unit || (fraction * unit) % scale) { STAP_RETURN(-1); }
	STAP_RETURN(whole * unit + fraction * unit / scale);
%}
`;
