// "Armed" means armed. A begin probe runs before SystemTap registers the host
// probe point, and SystemTap only warns (or, for a kvm.ko kprobe, says nothing)
// when a registration fails, then runs on, blind. So the host script learns what
// really happened: its embedded C comes before SystemTap's runtime in the one C
// file stap generates, and a macro routes the runtime's calls to register_kprobe()
// and tracepoint_probe_register() through wrappers that record the result. A
// timer then says "armed" once the probe point is live, "waiting for kvm" while
// kvm.ko is not loaded, and refuses when kvm is loaded but the probe point is not.
import type { Fragment } from "../fragment.js";
import { refuse } from "./refuse.js";

/** How long kvm may be loaded with the probe point not live before the script gives up (SystemTap registers a kvm.ko probe from a work queue after kvm loads). */
export const ARMING_GRACE_MS = 2000;
/** How often the arming state is checked. */
export const ARMING_CHECK_MS = 200;

/** The probe point's state from the kernel calls of SystemTap's runtime: a kprobe on a kvm.ko function. */
export const kprobeArming: Fragment = {
  name: "kprobe arming",
  c: String.raw`#include <linux/kprobes.h>

/* The host probe's kprobe while the kernel has it registered; its last registration's result. */
static struct kprobe *qt_kprobe;
static int qt_probe_rc = 1; /* 1: never tried */

static int qt_register_kprobe(struct kprobe *kp)
{
	int rc = register_kprobe(kp);
	WRITE_ONCE(qt_probe_rc, rc);
	if (!rc)
		WRITE_ONCE(qt_kprobe, kp);
	return rc;
}

static void qt_unregister_kprobe(struct kprobe *kp)
{
	WRITE_ONCE(qt_kprobe, NULL);
	unregister_kprobe(kp);
}

static void qt_unregister_kprobes(struct kprobe **kps, int num)
{
	WRITE_ONCE(qt_kprobe, NULL);
	unregister_kprobes(kps, num);
}

/* SystemTap's runtime (linux/kprobes.c) is compiled after this block: it calls these. */
#define register_kprobe qt_register_kprobe
#define unregister_kprobe qt_unregister_kprobe
#define unregister_kprobes qt_unregister_kprobes

/* Live: registered, and the kernel has not marked it gone (its module unloaded) or disabled. */
static int qt_probe_live(void)
{
	struct kprobe *kp = READ_ONCE(qt_kprobe);
	return kp && !kprobe_gone(kp) && !kprobe_disabled(kp);
}`,
};

/** The same for a tracepoint in kvm.ko. */
export const tracepointArming = (tracepoint: string): Fragment => ({
  name: "tracepoint arming",
  c: String.raw`#include <linux/string.h>
#include <linux/tracepoint.h>

#define QT_PROBE_TRACEPOINT "${tracepoint}"

static int qt_tracepoint_attached;
static int qt_probe_rc = 1; /* 1: never tried (the probe point did not resolve when the script was built, or kvm never loaded) */

static int qt_tracepoint_probe_register(struct tracepoint *tp, void *probe, void *data)
{
	int rc = tracepoint_probe_register(tp, probe, data);
	if (!strcmp(tp->name, QT_PROBE_TRACEPOINT)) {
		WRITE_ONCE(qt_probe_rc, rc);
		WRITE_ONCE(qt_tracepoint_attached, !rc);
	}
	return rc;
}

static int qt_tracepoint_probe_unregister(struct tracepoint *tp, void *probe, void *data)
{
	if (!strcmp(tp->name, QT_PROBE_TRACEPOINT))
		WRITE_ONCE(qt_tracepoint_attached, 0);
	return tracepoint_probe_unregister(tp, probe, data);
}

/* SystemTap's runtime (linux/stp_tracepoint.c) is compiled after this block: it calls these. */
#define tracepoint_probe_register qt_tracepoint_probe_register
#define tracepoint_probe_unregister qt_tracepoint_probe_unregister

static int qt_probe_live(void)
{
	return READ_ONCE(qt_tracepoint_attached);
}`,
});

/**
 * The same for a uprobe in the VMM's executable (QEMU). Kernels that do not export
 * uprobe_register() make SystemTap's runtime define it as a macro itself: there this
 * script does not build ("uprobe_register" redefined); 6.1 exports it.
 */
export const uprobeArming: Fragment = {
  name: "uprobe arming",
  c: String.raw`#include <linux/uprobes.h>

static struct uprobe_consumer *qt_uprobe;
static int qt_probe_rc = 1; /* 1: never tried (the VMM process was not found) */

static int qt_uprobe_register(struct inode *inode, loff_t offset, struct uprobe_consumer *uc)
{
	int rc = uprobe_register(inode, offset, uc);
	WRITE_ONCE(qt_probe_rc, rc);
	if (!rc)
		WRITE_ONCE(qt_uprobe, uc);
	return rc;
}

static void qt_uprobe_unregister(struct inode *inode, loff_t offset, struct uprobe_consumer *uc)
{
	WRITE_ONCE(qt_uprobe, NULL);
	uprobe_unregister(inode, offset, uc);
}

/* SystemTap's runtime (linux/uprobes-inode.c) is compiled after this block: it calls these. */
#define uprobe_register qt_uprobe_register
#define uprobe_unregister qt_uprobe_unregister

static int qt_probe_live(void)
{
	return READ_ONCE(qt_uprobe) != NULL;
}`,
};

/**
 * The timer that reports the arming state. `probeArming` is one of the two above;
 * `armedNotice` defines qt_log_armed(void); `refusal` names the probe point in the
 * refusal ("kprobe kvm:kvm_fast_pio: the function is missing or inlined on this kernel").
 */
export function armingWatch(probeArming: Fragment, armedNotice: Fragment, refusal: string): Fragment {
  return {
    name: "arming watch",
    requires: [refuse, probeArming, armedNotice],
    probes: [`timer.ms(${ARMING_CHECK_MS})`],
    c: String.raw`#include <linux/jiffies.h>
#include <linux/module.h>

/* Whether kvm.ko is loaded (and live): one of its exports resolves. */
static int qt_kvm_loaded(void)
{
	void *kick = __symbol_get("kvm_vcpu_kick");
	if (kick)
		__symbol_put("kvm_vcpu_kick");
	return kick != NULL;
}

enum qt_arming { QT_STARTING, QT_WAITING, QT_ARMED };
static enum qt_arming qt_arming = QT_STARTING;
static unsigned long qt_kvm_since; /* jiffies when kvm was first seen loaded with the probe point not live; 0: not */`,
    stap: String.raw`# Says "armed" once the probe point is live, "waiting for kvm" while kvm.ko is not loaded,
# and refuses (staprun exits 1) when kvm has been loaded ${ARMING_GRACE_MS} ms and the probe point is still not live.
probe timer.ms(${ARMING_CHECK_MS}) {
	if (qt_watch_arming())
		qt_refuse(sprintf("qtrip: cannot arm: kvm is loaded but the host probe point is not (${refusal}; registration: %s)", qt_registration()))
}

# 1 once kvm has been loaded for the grace period with the probe point not live.
function qt_watch_arming:long() %{
	if (qt_probe_live()) {
		qt_kvm_since = 0;
		if (qt_arming != QT_ARMED)
			qt_log_armed();
		qt_arming = QT_ARMED;
	} else if (!qt_kvm_loaded()) {
		qt_kvm_since = 0;
		if (qt_arming != QT_WAITING)
			printk(KERN_WARNING "qtrip: host probe %s: kvm is not loaded; waiting for kvm (the probe arms when kvm loads)\n",
			       qt_arming == QT_ARMED ? "disarmed" : "not armed yet");
		qt_arming = QT_WAITING;
	} else if (!qt_kvm_since) {
		qt_kvm_since = jiffies | 1;
	} else if (time_after(jiffies, qt_kvm_since + msecs_to_jiffies(${ARMING_GRACE_MS}))) {
		STAP_RETURN(1);
	}
	STAP_RETURN(0);
%}

function qt_registration:string() %{
	int rc = READ_ONCE(qt_probe_rc);
	if (rc == 1)
		strscpy(STAP_RETVALUE, "never attempted", MAXSTRINGLEN);
	else if (rc)
		snprintf(STAP_RETVALUE, MAXSTRINGLEN, "error %d", rc);
	else
		strscpy(STAP_RETVALUE, "registered, then disabled or gone", MAXSTRINGLEN);
%}`,
  };
}
