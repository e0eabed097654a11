// `reclaim stall > D` in a real guest, in real direct reclaim: a small guest with no
// swap reads a disk larger than its memory (page cache), then a task allocates anonymous
// memory; both must reclaim that cache in their allocations. What makes one reclaim slow
// is a shrinker of the test's own (a guru-mode helper module): reclaim calls every
// shrinker, and a slow one is a real cause of reclaim stalls. It sleeps in a task's
// 20th direct reclaim only (marker 0x61, 0x62, ... from the kernel, in the order of the
// tasks), the reclaims before it being quick; and it holds kswapd for 20 s the first
// time kswapd calls it, so that the allocations cannot leave their reclaim to kswapd.
import { basename } from "node:path";
import { describe, expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { bootRules, buildModule, markerAt, virtioDisk } from "./harness.js";

const THRESHOLD_MS = 300;
const SLOW_MS = 800;
const RULES = `when reclaim stall > ${THRESHOLD_MS}ms on comm "hog" as "hog stalled in reclaim"
when reclaim stall > 20s as "any reclaim stall"
`;

/** The slow shrinker; register_shrinker() took a name in 6.0 and gave way to shrinker_alloc() in 6.7. */
const SLOW_SHRINKER = String.raw`%{
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/spinlock.h>
#include <linux/version.h>

#define QT_E2E_TASKS 16
static DEFINE_SPINLOCK(qt_e2e_lock);
static pid_t qt_e2e_pid[QT_E2E_TASKS];
static int qt_e2e_calls[QT_E2E_TASKS], qt_e2e_slow, qt_e2e_kswapd_held;

static unsigned long qt_e2e_count(struct shrinker *s, struct shrink_control *sc)
{
	return 1 << 24; /* enough that reclaim at any priority asks for a scan */
}

/* The number of this direct reclaimer's call (1, 2, ...), or 0 once the table is full. */
static int qt_e2e_call(void)
{
	int i, n = 0;
	spin_lock(&qt_e2e_lock);
	for (i = 0; i < QT_E2E_TASKS; i++)
		if (qt_e2e_pid[i] == current->pid || !qt_e2e_pid[i]) {
			qt_e2e_pid[i] = current->pid;
			n = ++qt_e2e_calls[i];
			break;
		}
	spin_unlock(&qt_e2e_lock);
	return n;
}

static unsigned long qt_e2e_scan(struct shrinker *s, struct shrink_control *sc)
{
	if (current->flags & PF_KSWAPD) {
		if (!xchg(&qt_e2e_kswapd_held, 1)) {
			outb(0x60, 0x378);
			msleep(20000);
		}
	} else if (qt_e2e_call() == 20) {
		int slow = ++qt_e2e_slow; /* one vCPU: no race */
		printk(KERN_INFO "qtrip-e2e: slow reclaim %d: %s (pid %d), ${SLOW_MS} ms\n", slow, current->comm, current->pid);
		outb(0x60 + slow, 0x378);
		msleep(${SLOW_MS});
	}
	return SHRINK_STOP;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6,7,0)
static struct shrinker *qt_e2e_shrinker;
#else
static struct shrinker qt_e2e_shrinker_s = { .count_objects = qt_e2e_count, .scan_objects = qt_e2e_scan, .seeks = DEFAULT_SEEKS };
#endif
%}
function start() %{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6,7,0)
	qt_e2e_shrinker = shrinker_alloc(0, "qtrip-e2e");
	if (qt_e2e_shrinker) {
		qt_e2e_shrinker->count_objects = qt_e2e_count;
		qt_e2e_shrinker->scan_objects = qt_e2e_scan;
		qt_e2e_shrinker->seeks = DEFAULT_SEEKS;
		shrinker_register(qt_e2e_shrinker);
	}
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6,0,0)
	register_shrinker(&qt_e2e_shrinker_s, "qtrip-e2e");
#else
	register_shrinker(&qt_e2e_shrinker_s);
#endif
	printk(KERN_INFO "qtrip-e2e: slow shrinker registered\n");
%}
probe begin { start() }
`;

describe("reclaim stall in a real guest", { timeout: 300_000 }, () => {
  test("another task's slow reclaim and the hog's quick ones do not trip; the hog's slow one trips at the threshold, while it lasts", async () => {
    const helper = await buildModule(SLOW_SHRINKER, "-g");
    // 160 MiB of memory and a 256 MiB disk: cat fills the page cache and reclaims it
    // (its 20th reclaim is slow: marker 0x61); then the hog allocates 64 MiB (0x62).
    const run = await bootRules(RULES, {
      memoryMb: 160,
      kernelModules: ["virtio_pci", "virtio_blk"],
      drives: [virtioDisk({ mib: 256 })],
      files: { [`/${basename(helper)}`]: helper },
      session: `staprun -L /${basename(helper)}
                spawn h comm:hog hog:64
                arm
                mark 0x30
                cat /dev/vda > /dev/null
                mark 0x31
                run h`,
      timeoutMs: 180_000,
    });
    expect(run.console).toContain("qtrip-e2e: slow reclaim 1: cat");
    expect(run.console).toContain("qtrip-e2e: slow reclaim 2: hog");
    // cat's slow reclaim, past the hog's threshold (another task) and far below 20 s, tripped nothing.
    expect(markerAt(run, 0x61)).toBeGreaterThan(markerAt(run, 0x30));
    expect(markerAt(run, 0x61)).toBeLessThan(markerAt(run, 0x31));
    // The hog's 19 reclaims before its slow one were quick; the trip came the threshold after
    // its reclaim began (a little before the shrinker's marker), well inside its 800 ms.
    const at = expectTrip(run, "hog stalled in reclaim", { marker: 0x62, minMs: THRESHOLD_MS - 50, maxMs: THRESHOLD_MS + SLACK_MS });
    console.log(`reclaim stall: tripped ${msBetween(markerAt(run, 0x62), at).toFixed(1)} ms after the hog's slow shrinker call began (threshold ${THRESHOLD_MS} ms)`);
  });
});
