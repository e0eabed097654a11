// The guest fragment every script has: the trip itself, and the
// lines logged when the script arms. Nothing from a rule file is ever spliced
// into the fragments' C: the emitter passes only numbers it computed (#defines), and
// strings as SystemTap function arguments.
import type { Fragment } from "../fragment.js";
import { pauses } from "./pauses.js";

function trip(dryRun: boolean): string {
  const act = dryRun
    ? String.raw`	qt_log_deferred(KERN_EMERG "qtrip: tripped (dry run, port not written): %s\n", label);`
    : String.raw`	qt_log_deferred(KERN_EMERG "qtrip: tripped: %s: writing 0x%02x to port 0x%x\n", label, QT_CHANNEL_VALUE, QT_CHANNEL_PORT);
	/* The last act: the vCPU exits to the hypervisor on this instruction. */
	outb(QT_CHANNEL_VALUE, QT_CHANNEL_PORT);`;
  return String.raw`#include <linux/atomic.h>
#include <linux/hardirq.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/version.h>
#include <asm/io.h>

static atomic_t qt_tripped;

/* SystemTap's counts of skipped probe hits, in all and by reason, defined after this block. */
static inline atomic_t *skipped_count(void);
static inline atomic_t *skipped_count_lowstack(void);
static inline atomic_t *skipped_count_reentrant(void);
static int qt_skipped_said;
static DEFINE_RATELIMIT_STATE(qt_skipped_limit, 5 * HZ, 1);

/* printk_deferred(), which modules cannot call: the line is in the log buffer at once (a dump
 * holds it), on the consoles later (irq_work). printk() may first print the whole console backlog
 * (seconds on a serial console, or the rest of another CPU's), and deadlock under the scheduler's locks.
 * In an NMI, vprintk(): 5.10's vprintk_emit() takes logbuf_lock, which the interrupted code may hold,
 * and vprintk() stores in printk_safe's NMI buffer (flushed after the NMI); since 5.15 it defers too. */
static __printf(1, 2) void qt_log_deferred(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	if (in_nmi())
		vprintk(fmt, args);
	else
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5,10,0)
		vprintk_emit(0, LOGLEVEL_SCHED, NULL, fmt, args);
#else
		vprintk_emit(0, LOGLEVEL_SCHED, NULL, 0, fmt, args);
#endif
	va_end(args);
}

/* Says SystemTap's skipped hits when more than last said: while armed (limited) at most every 5 s. */
static void qt_say_skipped(const char *when, int limited)
{
	int skipped = atomic_read(skipped_count());
	if (skipped == READ_ONCE(qt_skipped_said) || (limited && !__ratelimit(&qt_skipped_limit)))
		return;
	WRITE_ONCE(qt_skipped_said, skipped);
	qt_log_deferred(KERN_WARNING "qtrip: %d probe hit(s) skipped by SystemTap %s (%d: another handler running on the CPU; %d: a low stack): the rules did not see them\n",
			skipped, when, atomic_read(skipped_count_reentrant()), atomic_read(skipped_count_lowstack()));
}

/* Once: the first rule that holds trips, every later one finds it done. */
static void qt_trip(const char *label)
{
	if (atomic_cmpxchg(&qt_tripped, 0, 1) != 0)
		return;
	qt_say_skipped("before this trip", 0);
${act}
}`;
}

export function core(dryRun: boolean): Fragment {
  return {
    name: "core: the trip",
    c: trip(dryRun),
    stap: String.raw`/* Armed: said in the kernel log; the options' absence, on the terminal that started the script. */
function qt_log_armed(rules:long, case_id:string) %{
#ifndef STP_NO_OVERLOAD
	_stp_warn("qtrip: no -DSTP_NO_OVERLOAD: may stop under load");
#endif
#if !defined(MAXSKIPPED) || MAXSKIPPED < 1000000
	_stp_warn("qtrip: no -DMAXSKIPPED=1000000: stops after 100 skipped probes");
#endif
#if INTERRUPTIBLE
	_stp_warn("qtrip: no -DINTERRUPTIBLE=0: a probe firing in an interrupt during another is lost");
#endif
	printk(KERN_INFO "qtrip: armed: %lld rule(s), case '%s'${dryRun ? ", dry run" : ""}\n", (long long)STAP_ARG_rules, STAP_ARG_case_id);
%}

probe end { qt_say_skipped_at_end() }

function qt_say_skipped_at_end() %{
	qt_say_skipped("in all", 0);
%}`,
  };
}

/** The trip from a probe handler (rules seen at an event); the in-flight scan trips from C. */
export const tripRule: Fragment = {
  name: "trip from a handler",
  stap: String.raw`function qt_trip_rule(label:string) %{
	qt_trip(STAP_ARG_label);
%}`,
};

/**
 * Thresholds given when the script starts. The emitter declares qt_threshold[]
 * with the constant ones (ns: rule r holds for a duration above qt_threshold[r])
 * and QT_AT_LEAST, '>= D' as '> D - 1'.
 */
export const runtimeThresholds: Fragment = {
  name: "run-time thresholds",
  stap: String.raw`function qt_set_threshold(rule:long, ns:long, inclusive:long) %{
	qt_threshold[STAP_ARG_rule] = STAP_ARG_inclusive ? QT_AT_LEAST(STAP_ARG_ns) : STAP_ARG_ns;
%}`,
};

/** A duration measured where an event happens, against the rule's threshold. */
export const exceeds: Fragment = {
  name: "thresholds at events",
  stap: String.raw`function qt_exceeds:long(rule:long, value:long) %{
	STAP_RETURN(STAP_ARG_value > qt_threshold[STAP_ARG_rule]);
%}`,
};

/** `after D`: rules that may not trip until D after the script armed. */
export const delays: Fragment = {
  name: "delays",
  requires: [pauses],
  c: String.raw`#include <linux/timekeeping.h>

static u64 qt_armed_at;
static u64 qt_after[QT_RULES]; /* ns after arming before rule r may trip */`,
  stap: String.raw`function qt_set_after(rule:long, ns:long) %{
	qt_after[STAP_ARG_rule] = STAP_ARG_ns;
%}

function qt_start_delays() %{
	qt_armed_at = qt_clock();
%}`,
};

/** A delayed rule's occurrence seen at an event (the in-flight scan checks the delay from C). */
export const readyAtEvent: Fragment = {
  name: "delays at events",
  requires: [delays],
  stap: String.raw`/* The rules of the mask whose delay is over. */
function qt_ready:long(rules:long) %{
	u64 now = qt_clock(), ready = STAP_ARG_rules;
	int r;
	for (r = 0; r < QT_RULES; r++)
		if (qt_after[r] && now - qt_armed_at < qt_after[r])
			ready &= ~(1ULL << r);
	STAP_RETURN(ready);
%}`,
};
