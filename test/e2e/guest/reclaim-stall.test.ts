// `reclaim stall > D` in a real guest, in real direct reclaim: a small guest with no
// swap reads a disk larger than its memory (page cache), then a task allocates anonymous
// memory; both must reclaim that cache in their allocations. What makes one reclaim slow
// is a shrinker of the test's own (a guru-mode helper module): reclaim calls every
// shrinker, and a slow one is a real cause of reclaim stalls. It sleeps in a task's
// 20th direct reclaim only (marker 0x61, 0x62, ... from the kernel, in the order of the
// tasks), the reclaims before it being quick; and it holds kswapd the first time kswapd
// calls it, until both slow reclaims are over, so that the allocations cannot leave
// their reclaim to kswapd.
import { basename } from "node:path";
import { describe, expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { buildForTarget, listTargets } from "../../support/targets.js";
import { compileRule } from "../support/compile.js";
import { sampledOut, taken } from "../support/sample.js";
import { bootRules, buildModule, markerAt, runGuest, virtioDisk, type GuestRun, type GuestSession } from "./harness.js";

const THRESHOLD_MS = 300;
const SLOW_MS = 800;
const RULES = `when reclaim stall > ${THRESHOLD_MS}ms on comm "hog" as "hog stalled in reclaim"
when reclaim stall > 20s as "any reclaim stall"
`;

/** The slow shrinker; register_shrinker() took a name in 6.0 and gave way to shrinker_alloc() in 6.7. */
const SLOW_SHRINKER = String.raw`#   stap -g slow-shrinker.stp (a build target's options come from this line)
%{
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
		int i;
		if (!xchg(&qt_e2e_kswapd_held, 1)) /* until both slow reclaims are over (60 s at most) */
			for (i = 0; i < 600 && READ_ONCE(qt_e2e_slow) < 2; i++)
				msleep(100);
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

/**
 * A slow direct compaction: the task named slowthp spins 800 ms, once, as try_to_compact_pages()
 * compacts its first zone (compact_zone_order(), marker 0x70 first; this SystemTap finds no
 * compaction tracepoint on 6.1). Interrupts stay on (SystemTap's default), so the
 * guest's timers run; -DSTP_NO_OVERLOAD: SystemTap would stop a module whose handler runs that long.
 * The compactions of the task while it is named thp stay quick, and are said.
 */
const SLOW_COMPACTION = String.raw`#   stap -g -DSTP_NO_OVERLOAD slow-compaction.stp
%{
#include <linux/delay.h>
#include <linux/io.h>
static int qt_e2e_spun;
%}
function spin() %{
	if (strcmp(current->comm, "slowthp")) { /* thp: quick */
		printk_ratelimited(KERN_INFO "qtrip-e2e: quick compaction: %s\n", current->comm);
	} else if (!xchg(&qt_e2e_spun, 1)) {
		printk(KERN_INFO "qtrip-e2e: slow compaction: %s (pid %d), ${SLOW_MS} ms\n", current->comm, current->pid);
		outb(0x70, 0x378);
		mdelay(${SLOW_MS});
	}
%}
probe kprobe.function("compact_zone_order") { if (execname() == "thp" || execname() == "slowthp") spin() }
`;

/**
 * A slow reclaim of a memory cgroup: the memcg's own reclaim (try_to_free_mem_cgroup_pages(),
 * vmscan:mm_vmscan_memcg_reclaim_begin/_end around do_try_to_free_pages()) as dd's page cache
 * outgrows its cgroup's memory.max. The first of dd's memcg reclaims writes marker 0x70 and stays
 * quick, as do the 48 after it; the 50th spins 800 ms (0x71). Global reclaim is not slowed.
 */
const SLOW_MEMCG_RECLAIM = String.raw`#   stap -g -DSTP_NO_OVERLOAD slow-memcg-reclaim.stp
%{
#include <linux/delay.h>
#include <linux/io.h>
%}
global in_memcg, reclaims
function first() %{
	printk(KERN_INFO "qtrip-e2e: first memcg reclaim: %s (pid %d)\n", current->comm, current->pid);
	outb(0x70, 0x378);
%}
function slow() %{
	printk(KERN_INFO "qtrip-e2e: slow memcg reclaim: %s (pid %d), ${SLOW_MS} ms\n", current->comm, current->pid);
	outb(0x71, 0x378);
	mdelay(${SLOW_MS});
%}
probe kprobe.function("try_to_free_mem_cgroup_pages") { if (execname() == "dd") in_memcg[tid()] = 1 }
probe kprobe.function("try_to_free_mem_cgroup_pages").return { delete in_memcg[tid()] }
probe kprobe.function("do_try_to_free_pages") {
	if (!in_memcg[tid()]) next
	n = ++reclaims
	if (n == 1) first()
	else if (n == 50) slow()
}
`;

/** The hog's threshold after the shrinker's marker 0x62: its reclaim began a little before that marker. */
const AT_THRESHOLD = { marker: 0x62, minMs: THRESHOLD_MS - 50, maxMs: THRESHOLD_MS + SLACK_MS };

/**
 * 160 MiB of memory and a 256 MiB disk: cat fills the page cache and reclaims it (its 20th
 * reclaim is slow: marker 0x61); then the hog allocates 64 MiB (0x62). The shell keeps vda open:
 * 5.10 drops a disk's page cache when its last opener closes it. `before`: session lines first.
 */
function session(helper: string, before = ""): Omit<GuestSession, "module"> {
  return {
    memoryMb: 160,
    kernelModules: ["virtio_pci", "virtio_blk"],
    drives: [virtioDisk({ mib: 256 })],
    files: { [`/${basename(helper)}`]: helper },
    session: `${before}
              exec 3< /dev/vda
              staprun -L /${basename(helper)}
              spawn h comm:hog hog:64
              arm
              mark 0x30
              cat /dev/vda > /dev/null
              mark 0x31
              run h`,
    timeoutMs: 180_000,
  };
}

/** Both slow reclaims happened, cat's in its phase; the run tripped once, on the hog's, at the threshold. */
function expectHogTrip(run: GuestRun): number {
  expect(run.console).toContain("qtrip-e2e: slow reclaim 1: cat");
  expect(run.console).toContain("qtrip-e2e: slow reclaim 2: hog");
  expect(markerAt(run, 0x61)).toBeGreaterThan(markerAt(run, 0x30));
  expect(markerAt(run, 0x61)).toBeLessThan(markerAt(run, 0x31));
  return expectTrip(run, "hog stalled in reclaim", AT_THRESHOLD);
}

/** The kernels the hog's case runs on, one a run (rotating, support/sample.ts): the test kernel with this machine's SystemTap, and Debian 11's 5.10 and 13's 6.12 with their own. */
const KERNELS = ["6.1", ...listTargets().filter((e) => e.suite !== "bookworm")] as const;
const kernelName = (k: (typeof KERNELS)[number]) => (k === "6.1" ? "the test kernel (6.1)" : `${k.suite}'s kernel`);

describe("reclaim stall in a real guest", { timeout: 300_000 }, () => {
  // One kernel a run: the other kernels' case is this one, built by the suite's own SystemTap, and
  // their kernel has try_to_compact_pages as a function of its own (not inlined).
  test.for(KERNELS.map((k, i) => [kernelName(k), k, i] as const))(
    "on %s: another task's slow reclaim and the hog's quick ones do not trip; the hog's slow one trips at the threshold, while it lasts",
    { timeout: 900_000 },
    async ([, k, i], ctx) => {
      if (!taken("reclaim-stall-kernels", i, KERNELS.length)) return ctx.skip(sampledOut("reclaim-stall-kernels"));
      // cat's slow reclaim, past the hog's threshold (another task) and far below 20 s, trips
      // nothing; nor do the hog's 19 quick reclaims before its slow one. The trip comes the
      // threshold after the hog's reclaim began, well inside its 800 ms.
      if (k === "6.1") {
        const run = await bootRules(RULES, session(await buildModule(SLOW_SHRINKER, "-g")));
        const at = expectHogTrip(run);
        console.log(`reclaim stall: tripped ${msBetween(markerAt(run, 0x62), at).toFixed(1)} ms after the hog's slow shrinker call began (threshold ${THRESHOLD_MS} ms)`);
        return;
      }
      if (!k.target) return ctx.skip(k.reason);
      const t = k.target;
      const rules = await buildForTarget(t, compileRule({ source: RULES }).guest, `qt_reclaim_${t.suite}`);
      const helper = await buildForTarget(t, SLOW_SHRINKER, `qt_shrinker_${t.suite}`);
      expect(rules.ok, rules.stderr).toBe(true);
      expect(helper.ok, helper.stderr).toBe(true);
      const run = await runGuest({
        ...session(helper.module!, "grep -w try_to_compact_pages /proc/kallsyms"),
        module: rules.module!,
        machine: { kernel: { release: t.kernelRelease, image: t.kernelImage, modules: t.modules }, staprunRoot: t.root },
      });
      expect(run.console).toMatch(/ [Tt] try_to_compact_pages\b/);
      expect(run.console).toContain("qtrip: armed: 2 rule(s)");
      const at = expectHogTrip(run);
      console.log(`reclaim stall on ${t.kernelRelease}: tripped ${msBetween(markerAt(run, 0x62), at).toFixed(1)} ms after the hog's slow shrinker call began`);
    },
  );

  test("a memory cgroup's own reclaim: dd's quick ones do not trip; its slow one trips at the threshold, while it lasts", async () => {
    // dd reads 64 MiB through the page cache in a cgroup whose memory.max is 8 MiB: its charges
    // reclaim the cgroup's own pages (the guest has 160 MiB: nothing reclaims globally).
    const helper = await buildModule(SLOW_MEMCG_RECLAIM, "-g -DSTP_NO_OVERLOAD");
    const rule = `when reclaim stall > ${THRESHOLD_MS}ms on comm "dd" as "dd stalled in memcg reclaim"\n`;
    const run = await bootRules(rule, {
      ...session(helper),
      session: `mount -t cgroup2 none /sys/fs/cgroup
                echo +memory > /sys/fs/cgroup/cgroup.subtree_control
                mkdir /sys/fs/cgroup/small
                echo 8M > /sys/fs/cgroup/small/memory.max
                staprun -L /${basename(helper)}
                arm
                sh -c 'echo $$ > /sys/fs/cgroup/small/cgroup.procs && exec dd if=/dev/vda of=/dev/null bs=64k count=1024'
                grep -E '^(pgscan_direct|pgsteal_direct) ' /sys/fs/cgroup/small/memory.stat
                grep -E '^allocstall_' /proc/vmstat`,
    });
    expect(run.console).toContain("qtrip-e2e: first memcg reclaim: dd");
    expect(run.console).toContain("qtrip-e2e: slow memcg reclaim: dd");
    // The cgroup's own count of pages its direct reclaim scanned.
    expect(Number(/^pgscan_direct (\d+)/m.exec(run.console)?.[1] ?? 0), run.console).toBeGreaterThan(0);
    expect(markerAt(run, 0x71)).toBeGreaterThan(markerAt(run, 0x70));
    const at = expectTrip(run, "dd stalled in memcg reclaim", { marker: 0x71, minMs: THRESHOLD_MS - 50, maxMs: THRESHOLD_MS + SLACK_MS });
    console.log(`reclaim stall: tripped ${msBetween(markerAt(run, 0x71), at).toFixed(1)} ms after dd's slow memcg reclaim began (threshold ${THRESHOLD_MS} ms)`);
  });

  test("quick direct compactions do not trip (their return probes end them); a slow one trips at the threshold, while it lasts", async () => {
    // cat fills the page cache; then a huge page fault of the task thp (madvise MADV_HUGEPAGE:
    // it compacts memory for its huge page) finds no free 2 MiB block and compacts. A guest
    // under 512 MiB starts with transparent huge pages off: on for madvise'd memory.
    const helper = await buildModule(SLOW_COMPACTION, "-g -DSTP_NO_OVERLOAD");
    // Its quick compactions first (huge pages 1-4, marker 1), then 600 ms asleep (marker 2): had a
    // return probe missed their end, that sleep would trip; then its slow one (marker 3, 0x70).
    const rule = `param pid: int\nwhen reclaim stall > ${THRESHOLD_MS}ms on pid $pid as "thp stalled in compaction"\n`;
    const run = await bootRules(rule, {
      ...session(helper),
      session: `exec 3< /dev/vda
                staprun -L /${basename(helper)}
                spawn t comm:thp thp:8 nanosleep:600 comm:slowthp thp:8
                arm pid=$pid_t
                echo madvise > /sys/kernel/mm/transparent_hugepage/enabled
                echo madvise > /sys/kernel/mm/transparent_hugepage/defrag
                cat /dev/vda > /dev/null
                run t
                grep -E 'thp_fault_alloc|compact_stall' /proc/vmstat`,
    });
    expect(run.console).toContain("qtrip-e2e: quick compaction: thp");
    expect(run.console).toContain("qtrip-e2e: slow compaction: slowthp");
    expect(markerAt(run, 0x70)).toBeGreaterThan(markerAt(run, 3));
    const at = expectTrip(run, "thp stalled in compaction", { marker: 0x70, minMs: THRESHOLD_MS - 50, maxMs: THRESHOLD_MS + SLACK_MS });
    console.log(`reclaim stall: tripped ${msBetween(markerAt(run, 0x70), at).toFixed(1)} ms after the task's slow compaction began (threshold ${THRESHOLD_MS} ms)`);
  });
});
