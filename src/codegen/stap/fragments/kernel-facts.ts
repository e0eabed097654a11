// Small fragments that answer a question about the running kernel.
import type { Fragment } from "../fragment.js";
import { sinceKernel } from "../kernel.js";
import { pauseHistory, pauses } from "./pauses.js";

/** x86_64 system call numbers: a 32-bit (compat) task's numbers mean other calls. */
export const compat: Fragment = {
  name: "compat tasks",
  c: "#include <linux/compat.h>",
  stap: String.raw`function qt_compat_task:long() %{
	STAP_RETURN(in_compat_syscall());
%}`,
};

/**
 * SystemTap 4.8 resolves kprobe.module() symbols by walking kallsyms_on_each_symbol(),
 * which covers only vmlinux on 6.x kernels, and then skips the probe without a word.
 * Without that walker it hands "MODULE:NAME" to register_kprobe(), and the kernel
 * resolves it. Called from the begin probe: begin probes run before kprobes are registered.
 */
export const moduleSymbols: Fragment = {
  name: "module symbols",
  stap: String.raw`function qt_kernel_resolves_module_symbols() %{
	_stp_kallsyms_on_each_symbol = NULL;
%}`,
};

/**
 * SystemTap before 4.8 locks module_mutex in its kprobe runtime; Linux 5.10
 * stable (and 5.12+) no longer exports it, so every kprobe script fails at modpost
 * ("module_mutex" undefined). A private mutex satisfies the linker; the symbol
 * walk it guarded is never taken, as the walker is cleared first and
 * register_kprobe() resolves each "[MODULE:]NAME" itself. Newer SystemTap leaves
 * this block out when it builds the script.
 */
export const oldKprobeRuntime: Fragment = {
  name: "kprobes with SystemTap before 4.8",
  requires: [moduleSymbols],
  stap: String.raw`%( systemtap_v < "4.8" %?
%{
#include <linux/mutex.h>
static __maybe_unused DEFINE_MUTEX(qt_module_mutex);
#define module_mutex qt_module_mutex
%}
probe begin(-1000) {
	qt_kernel_resolves_module_symbols()
}
%)`,
};

/** Kernel log lines: the text is not NUL-terminated and may be longer than a SystemTap string. */
export const consoleSearch: Fragment = {
  name: "console search",
  c: String.raw`#include <linux/string.h>

/* A console line contains needle. qtrip's own lines never count. */
static int qt_line_contains(const char *text, long len, const char *needle)
{
	if (!text || len <= 0 || !*needle)
		return 0;
	if (strnstr(text, "qtrip: ", len))
		return 0;
	return strnstr(text, needle, len) != NULL;
}`,
  stap: String.raw`function qt_text_contains:long(text:long, len:long, needle:string) %{
	STAP_RETURN(qt_line_contains((const char *)(unsigned long)STAP_ARG_text, STAP_ARG_len, STAP_ARG_needle));
%}`,
};

/**
 * A kernel log line begins with a text: the kernel's own reports have a fixed start (its
 * pr_fmt prefix), where a user's words can come only after the kernel's. Before 5.19 the
 * line is the caller's format, with its level ("\0013") first: that is skipped.
 */
export const lineStart: Fragment = {
  name: "line start",
  c: String.raw`#include <linux/kern_levels.h>
#include <linux/string.h>

static int qt_line_starts(const char *text, long len, const char *prefix)
{
	long n = strlen(prefix);

	if (!text)
		return 0;
	while (len >= 2 && text[0] == KERN_SOH_ASCII && text[1]) {
		text += 2;
		len -= 2;
	}
	return n > 0 && len >= n && memcmp(text, prefix, n) == 0;
}`,
  stap: String.raw`function qt_text_starts:long(text:long, len:long, prefix:string) %{
	STAP_RETURN(qt_line_starts((const char *)(unsigned long)STAP_ARG_text, STAP_ARG_len, STAP_ARG_prefix));
%}`,
};

/**
 * Where the line being logged comes from, read at the log probe, which runs in the context of
 * the printk() caller (printk:console fires in vprintk_store() since 5.19; before, the ftrace-based
 * kprobe on vprintk_emit() adds nothing to the preempt count). A kernel thread, or any interrupt
 * (hard, soft, NMI): no user task chose that line's words. A user task's system call or fault
 * (the segfault report that logs its name) is neither.
 */
export const loggedFromKernel: Fragment = {
  name: "logged from the kernel",
  c: String.raw`#include <linux/preempt.h>
#include <linux/sched.h>`,
  stap: String.raw`function qt_logged_from_kernel:long() %{ /* pure */
	STAP_RETURN(!in_task() || (current->flags & PF_KTHREAD));
%}`,
};

/** The line is logged in a hard interrupt: the watchdog's hrtimer (HRTIMER_MODE_REL_HARD) logs soft lockups there. */
export const loggedInHardIrq: Fragment = {
  name: "logged in a hard interrupt",
  c: String.raw`#include <linux/preempt.h>`,
  stap: String.raw`function qt_logged_in_hardirq:long() %{ /* pure */
	STAP_RETURN(hardirq_count() != 0);
%}`,
};

/**
 * Each CPU's previous tick; an idle CPU gets no ticks (NO_HZ), and the time it spent idle is not a gap.
 * Nor is the time a CPU spent offline: a CPU going offline gets no idle entry (the dead CPU's loop
 * skips cpuidle), and one coming online may take its first tick before its first idle entry
 * (start_secondary() enables interrupts and programs the local APIC timer before the idle loop), so
 * each CPU hotplug step forgets the CPU's last tick. The steps of a bring-up that run on the control
 * CPU (CPUHP_BRINGUP_CPU among them) come before the CPU runs at all.
 */
export const tickTracking: Fragment = {
  name: "tick tracking",
  requires: [pauses],
  probes: ['kernel.trace("power:cpu_idle")', 'kernel.trace("cpuhp:cpuhp_enter")'],
  c: String.raw`#include <linux/percpu.h>
#include <linux/tick.h>
#include <linux/timekeeping.h>

static DEFINE_PER_CPU(u64, qt_last_tick); /* 0 while the CPU is idle */
static DEFINE_PER_CPU(u64, qt_gap_from); /* where the gap this CPU measured last began; 0: none */`,
  stap: String.raw`/*
 * ns since this CPU's previous tick; 0 on its first tick after idle. A nohz_full CPU that
 * runs one task stops its tick: its interrupts come when its timers are due, and the time
 * between them is no gap. It is not watched.
 */
function qt_since_last_tick:long() %{
	u64 now = qt_clock(), last = this_cpu_read(qt_last_tick);
	if (tick_nohz_full_cpu(smp_processor_id())) {
		this_cpu_write(qt_last_tick, 0);
		STAP_RETURN(0);
	}
	this_cpu_write(qt_last_tick, now);
	this_cpu_write(qt_gap_from, last);
	STAP_RETURN(last && now > last ? now - last : 0);
%}

# An idle CPU gets no ticks (NO_HZ): the time it spent idle is not a gap.
probe kernel.trace("power:cpu_idle") {
	qt_cpu_idle($state)
}

function qt_cpu_idle(state:long) %{
	/* power:cpu_idle reports (u32)-1 when the CPU leaves idle: the clock restarts then. */
	this_cpu_write(qt_last_tick, (u32)STAP_ARG_state == (u32)-1 ? qt_clock() : 0);
%}

# A CPU's time offline is not a gap: each hotplug step of a CPU (run on it or for it) forgets its last tick.
probe kernel.trace("cpuhp:cpuhp_enter") {
	qt_cpu_hotplug($cpu)
}

function qt_cpu_hotplug(cpu:long) %{
	if (STAP_ARG_cpu >= 0 && STAP_ARG_cpu < nr_cpu_ids)
		WRITE_ONCE(per_cpu(qt_last_tick, STAP_ARG_cpu), 0);
%}`,
};

/**
 * SystemTap 5.1's runtime looks up uprobe_unregister() by name when the module starts
 * (where it is not exported) and refuses to start without it ("Can't resolve
 * uprobe_unregister!"): Linux 6.12 split it into uprobe_unregister_nosync() and
 * uprobe_unregister_sync(), so no 5.1 module starts on 6.12. A script without uprobes
 * never calls it: taking it as exported skips the look-up. A script's top-level C comes
 * before the runtime's transport code, where the look-up is.
 */
/** For a rule that counts pauses: those of the whole guest within the gap between ticks just measured, which qtrip's clock left out. */
export const tickGapPauses: Fragment = {
  name: "pauses between ticks",
  requires: [tickTracking, pauseHistory],
  stap: String.raw`function qt_tick_gap_pauses:long() %{
	u64 from = this_cpu_read(qt_gap_from);
	STAP_RETURN(from ? qt_pauses_since(from) : 0);
%}`,
};

export const noUprobes: Fragment = {
  name: "no uprobes",
  c: String.raw`#ifndef STAPCONF_UPROBE_UNREGISTER_EXPORTED
#define STAPCONF_UPROBE_UNREGISTER_EXPORTED 1 /* never called: this script has no uprobe */
#endif`,
};

/**
 * A kernel log line, as it is logged. printk:console carries (text, len) since 3.10 and no
 * log level. Up to 5.18 it fires in call_console_drivers(), for the lines the consoles
 * print: console_unlock() skips every line at or above console_loglevel (kernel.printk's
 * first number: 4 on RHEL and Ubuntu, 4 with "quiet"), so warnings, notices and info lines
 * never reach it (5.10: kernel/printk/printk.c:1890, :2493). Since 5.19 it fires in
 * printk_sprint(), for every line as vprintk_store() stores it. Before 5.19 the line is
 * taken where it enters instead: a kprobe on vprintk_emit(), the way in of every printk()
 * and /dev/kmsg write, formats the caller's format and arguments into a per-CPU buffer
 * (kprobe handlers do not nest on a CPU). Lines printed in NMI reach vprintk_emit() when
 * they are flushed. Each expression is a SystemTap conditional on the target's kernel.
 */
export const LOGGED_LINE_BEFORE_5_19 = {
  probe: 'kprobe.function("vprintk_emit")',
  /** Formats the line; 0 when it is empty. */
  guard: "qt_logged_line()",
  text: "qt_logged_text()",
  length: "qt_logged_length()",
};

export const LOGGED_LINE = {
  probe: sinceKernel("5.19", 'kernel.trace("printk:console")', LOGGED_LINE_BEFORE_5_19.probe),
  guard: sinceKernel("5.19", "1", LOGGED_LINE_BEFORE_5_19.guard),
  text: sinceKernel("5.19", "$text", LOGGED_LINE_BEFORE_5_19.text),
  length: sinceKernel("5.19", "$len", LOGGED_LINE_BEFORE_5_19.length),
};

/** The per-CPU buffer and the functions of LOGGED_LINE's kprobe form (the kprobe needs oldKprobeRuntime on SystemTap 4.4). */
export const loggedLine: Fragment = {
  name: "logged line",
  requires: [oldKprobeRuntime],
  c: String.raw`#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/ptrace.h>

#define QT_LOGGED_MAX 1024
#define QT_VPRINTK_EMIT_HAS_DICT \
	__builtin_types_compatible_p(typeof(&vprintk_emit), int (*)(int, int, const char *, size_t, const char *, va_list))
static __maybe_unused DEFINE_PER_CPU(char[QT_LOGGED_MAX], qt_logged);
static __maybe_unused DEFINE_PER_CPU(int, qt_logged_len);`,
  stap: String.raw`/* At vprintk_emit(): the line it logs, formatted into this CPU's buffer; 1 unless it is empty. */
function qt_logged_line:long() %{
	struct pt_regs *regs = CONTEXT->kregs;
	const char *fmt = NULL;
	void *args = NULL;
	va_list copy;
	int len = 0;

	/* The arguments as this kernel's headers declare them (a backport may change them):
	 * (facility, level, dict, dictlen, fmt, args) before 5.10, (facility, level, dev_info, fmt, args) since. */
	if (regs && QT_VPRINTK_EMIT_HAS_DICT) {
		fmt = (const char *)regs->r8;
		args = (void *)regs->r9;
	} else if (regs) {
		fmt = (const char *)regs->cx;
		args = (void *)regs->r8;
	}
	if (fmt && args) {
		/* A copy: vprintk_emit() still reads its own. */
		va_copy(copy, *(va_list *)args);
		len = vscnprintf((char *)this_cpu_ptr(&qt_logged), QT_LOGGED_MAX, fmt, copy);
		va_end(copy);
	}
	this_cpu_write(qt_logged_len, len);
	STAP_RETURN(len > 0);
%}

function qt_logged_text:long() %{ /* pure */
	STAP_RETURN((long)this_cpu_ptr(&qt_logged));
%}

function qt_logged_length:long() %{ /* pure */
	STAP_RETURN(this_cpu_read(qt_logged_len));
%}`,
};
