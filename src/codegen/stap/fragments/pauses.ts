// qtrip's clock, which does not count the hypervisor's pauses of the whole guest.
//
// A pause (QMP stop/cont, virsh suspend, an internal snapshot, the end of a live
// migration) stops every vCPU. On kvm-clock the guest never sees it: QEMU restores the
// clock at the resume. On the TSC (invariant TSC exposed: kvm-clock lowers its own
// rating) the guest's clock sees all of it, and every call in flight, tick and stamp
// would age by the pause at once: a routine operator action must not trip the host.
//
// KVM's per-vCPU kvm-clock record (pvclock) tells both apart, on either clocksource:
// each update gives the TSC and kvm-clock's time at one moment, and kvm-clock runs with
// the TSC except at a resume, where QEMU sets it back to where the pause began. So the
// "hidden" time, the TSC's time minus kvm-clock's, steps by the pause's length at each
// resume, and nothing else moves it (rounding aside). KVM writes the record as each vCPU
// enters after the resume (KVM_SET_CLOCK, KVM_KVMCLOCK_CTRL), before any guest code
// runs there: the first clock read on a vCPU after a resume sees the step.
//
// qt_clock() is the kernel's monotonic clock less the pauses it saw (none on kvm-clock).
// Read it where a duration starts and ends; timers are programmed in the kernel's time
// (qt_kernel_time()). Without kvm-clock (TCG, another hypervisor, no-kvmclock) no guest
// can tell a pause from a stall, and nothing is taken away.
import type { Fragment } from "../fragment.js";

export const pauses: Fragment = {
  name: "pauses",
  c: String.raw`#include <linux/atomic.h>
#include <linux/clocksource.h>
#include <linux/kallsyms.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <asm/pvclock.h> /* before kvmclock.h, which uses its types */
#include <asm/kvmclock.h>

/* A step of the hidden time this long or more is a pause; less is rounding and the host's clock updates. */
#define QT_PAUSE_LEAST_NS (10 * NSEC_PER_MSEC)

static atomic64_t qt_hidden_seen;	/* the hidden time when last looked at (any vCPU); 0: not yet */
static atomic64_t qt_paused;		/* ns of pauses the guest's clock saw, all told */
static atomic64_t qt_pause_seen_at, qt_pause_length;	/* the last of them: when seen (kernel's time), how long */
static atomic_t qt_resumes;		/* resumes seen */
static u32 qt_hidden_mul, qt_hidden_shift;	/* the scale the hidden time was taken with */
static struct clocksource **qt_curr_clocksource;	/* the kernel's current clocksource (kallsyms), or NULL */
static DEFINE_PER_CPU(u32, qt_pvti_version);	/* the record's version this CPU looked at last */

/* The last pauses, on either clocksource, for the rules that count them ("counting pauses"): when seen, how long. */
#define QT_PAUSES_KEPT 16
static struct { atomic64_t at, length; } qt_pause_log[QT_PAUSES_KEPT];	/* at: qtrip's clock then; 0 while written */
static void (*qt_resume_hook)(void);	/* set while some in-flight rule counts pauses: its scans look at once (fragments/scan-timer.ts) */

/* One consistent read of a vCPU's record: its hidden time, or 0 while KVM writes it. */
static u64 qt_hidden_now(struct pvclock_vcpu_time_info *p, u32 *version, u32 *mul, u32 *shift)
{
	u64 tsc, system_time;
	*version = READ_ONCE(p->version);
	smp_rmb();
	tsc = READ_ONCE(p->tsc_timestamp);
	system_time = READ_ONCE(p->system_time);
	*mul = READ_ONCE(p->tsc_to_system_mul);
	*shift = (u32)(s8)READ_ONCE(p->tsc_shift);
	smp_rmb();
	if ((*version & 1) || *version != READ_ONCE(p->version))
		return 0;
	return pvclock_scale_delta(tsc, *mul, (s8)*shift) - system_time;
}

/* Looks at this vCPU's record once per update of it; a step of the hidden time is a resume. */
static void qt_pause_check(void)
{
	struct pvclock_vsyscall_time_info *v = this_cpu_read(hv_clock_per_cpu);
	struct clocksource *cs;
	u64 hidden, seen, now;
	s64 step;
	u32 version, mul, shift;
	int sees, n;
	void (*hook)(void);
	if (!v || READ_ONCE(v->pvti.version) == this_cpu_read(qt_pvti_version))
		return;
	/* Before the claim below: a duration another vCPU starts after the resume starts after this, never before. */
	now = ktime_get_mono_fast_ns();
	hidden = qt_hidden_now(&v->pvti, &version, &mul, &shift);
	if (!hidden)
		return;
	this_cpu_write(qt_pvti_version, version);
	/* The guest's clock sees a pause unless it is kvm-clock. */
	cs = qt_curr_clocksource ? READ_ONCE(*qt_curr_clocksource) : NULL;
	sees = cs && strcmp(cs->name, "kvm-clock") != 0;
	for (;;) {
		seen = atomic64_read(&qt_hidden_seen);
		/* The first look, or a new TSC scale (the hidden times are not comparable): the base from now. */
		if (!seen || mul != READ_ONCE(qt_hidden_mul) || shift != READ_ONCE(qt_hidden_shift)) {
			WRITE_ONCE(qt_hidden_mul, mul);
			WRITE_ONCE(qt_hidden_shift, shift);
			atomic64_set(&qt_hidden_seen, hidden);
			return;
		}
		/* Rounding, the host's clock updates, a resume another vCPU took: the base moves. */
		step = (s64)(hidden - seen);
		if (step < QT_PAUSE_LEAST_NS) {
			atomic64_cmpxchg(&qt_hidden_seen, seen, hidden);
			return;
		}
		/* Taken from qtrip's clock before the resume is claimed: a reader meanwhile sees a duration too short, never too long. */
		if (sees)
			atomic64_add(step, &qt_paused);
		if (atomic64_cmpxchg(&qt_hidden_seen, seen, hidden) == seen)
			break;
		if (sees)
			atomic64_sub(step, &qt_paused);
	}
	n = atomic_inc_return(&qt_resumes);
	if (sees) {
		atomic64_set(&qt_pause_length, step);
		atomic64_set(&qt_pause_seen_at, ktime_get_mono_fast_ns());
	}
	/* Logged on qtrip's clock: every duration that began before the pause began before this. */
	atomic64_set(&qt_pause_log[(u32)n % QT_PAUSES_KEPT].at, 0);
	smp_wmb();
	atomic64_set(&qt_pause_log[(u32)n % QT_PAUSES_KEPT].length, step);
	smp_wmb();
	atomic64_set(&qt_pause_log[(u32)n % QT_PAUSES_KEPT].at, now - atomic64_read(&qt_paused));
	hook = READ_ONCE(qt_resume_hook);
	if (hook)
		hook();
}

/* qtrip's clock: the kernel's monotonic time less the pauses it saw. */
static u64 qt_clock(void)
{
	qt_pause_check();
	return ktime_get_mono_fast_ns() - atomic64_read(&qt_paused);
}

/* The kernel's time (an hrtimer's) of a moment on qtrip's clock, as the pauses stand now. */
#define qt_kernel_time(t) ((t) + (u64)atomic64_read(&qt_paused))`,
  stap: String.raw`probe begin(-2) { qt_pauses_start() }

function qt_pauses_start() %{
	/* Static in kernel/time/clocksource.c: found by name (CONFIG_KALLSYMS_ALL, as Debian's kernels have). */
	qt_curr_clocksource = (struct clocksource **)kallsyms_lookup_name("curr_clocksource");
	qt_pause_check();
%}`,
  probes: ["begin(-2)"],
};

/** A timer's lateness, less the pause the guest's clock saw within it. */
export const unpausedLateness: Fragment = {
  name: "lateness less pauses",
  requires: [pauses],
  c: String.raw`/* A lateness measured in the kernel's time up to now, less the last pause if it was seen within it. */
static s64 qt_unpaused(s64 late)
{
	qt_pause_check();
	if (late > 0 && ktime_get_mono_fast_ns() - (u64)atomic64_read(&qt_pause_seen_at) < (u64)late)
		late -= atomic64_read(&qt_pause_length);
	return late;
}`,
  stap: String.raw`/* A timer's lateness in ns (the kernel's time, up to now), less the pauses seen within it. */
function qt_unpaused_late:long(late:long) %{
	STAP_RETURN(qt_unpaused(STAP_ARG_late));
%}`,
};

/** What the rules that count pauses (`counting pauses`) add to a duration: the pauses seen within it. */
export const pauseHistory: Fragment = {
  name: "pause history",
  requires: [pauses],
  c: String.raw`/*
 * ns of the pauses seen after moment t of qtrip's clock: what a duration since then left out (the last
 * QT_PAUSES_KEPT pauses). Its callers have just read qtrip's clock, which took any new resume into the log.
 */
static u64 qt_pauses_since(u64 t)
{
	u64 sum = 0, at, length;
	int i;
	for (i = 0; i < QT_PAUSES_KEPT; i++) {
		at = atomic64_read(&qt_pause_log[i].at);
		smp_rmb();
		length = atomic64_read(&qt_pause_log[i].length);
		smp_rmb();
		if (at > t && at == atomic64_read(&qt_pause_log[i].at))
			sum += length;
	}
	return sum;
}

/* a less b, or 0: a due time that the pauses in a duration brought before the clock's start. */
static inline u64 qt_less(u64 a, u64 b)
{
	return a > b ? a - b : 0;
}`,
};

/** `event vm_resumed`: the first clock read after each resume, on any vCPU, sees it once. */
export const resumes: Fragment = {
  name: "resumes",
  requires: [pauses],
  c: String.raw`static atomic_t qt_resumes_told;`,
  stap: String.raw`/* True once for each resume seen since the last call (on any vCPU). */
function qt_vm_resumed:long() %{
	int seen, told;
	qt_pause_check();
	seen = atomic_read(&qt_resumes);
	told = atomic_read(&qt_resumes_told);
	STAP_RETURN(seen != told && atomic_cmpxchg(&qt_resumes_told, told, seen) == told);
%}`,
};
