// The in-flight table's start under a lost compare-and-swap (issue 23, item 11):
// the generated C of fragments/inflight.ts, compiled by gcc for user space with the
// kernel calls it makes replaced by plain ones, and one race played out: another
// CPU's start takes the free slot between this start's read and its CAS. The start
// must take the next free slot, not count itself "not timed"; only a key whose
// every slot is taken is not timed. (The kernel build of the same C is
// test/codegen/examples.test.ts's stap -p4; the scan's deferred line is checked here.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { inflight } from "../../src/codegen/stap/fragments/inflight.js";
import { neighbour } from "../../src/codegen/stap/fragments/neighbour.js";

/** What the table's C uses from the kernel, for one CPU in user space; the CAS can lose races on demand. */
const KERNEL = String.raw`#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
typedef uint64_t u64; typedef int64_t s64; typedef uint32_t u32;
#define U64_MAX UINT64_MAX
#define S64_MAX INT64_MAX
typedef struct { long counter; } atomic_long_t;
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
static long atomic_long_read(atomic_long_t *v) { return v->counter; }
static void atomic_long_set(atomic_long_t *v, long x) { v->counter = x; }
/* Races to lose: another CPU's start with key qt_rival takes the slot just before this CAS. */
static int qt_races; static long qt_rival = 999;
static long atomic_long_cmpxchg(atomic_long_t *v, long old, long new)
{
	long cur;
	if (qt_races > 0 && v->counter == 0) { qt_races--; v->counter = qt_rival++; }
	cur = v->counter;
	if (cur == old) v->counter = new;
	return cur;
}
static int atomic_read(atomic_t *v) { return v->counter; }
static void atomic_inc(atomic_t *v) { v->counter++; }
static void atomic_dec(atomic_t *v) { v->counter--; }
static s64 atomic64_read(atomic64_t *v) { return v->counter; }
static int atomic64_try_cmpxchg(atomic64_t *v, s64 *old, s64 new) { if (v->counter == *old) { v->counter = new; return 1; } *old = v->counter; return 0; }
#define WRITE_ONCE(x, v) ((x) = (v))
#define READ_ONCE(x) (x)
#define smp_wmb() do {} while (0)
#define smp_mb() do {} while (0)
#define ilog2(n) (63 - __builtin_clzll(n))
static unsigned long hash_long(unsigned long v, int bits) { return (v * 0x61C8864680B583EBull) >> (64 - bits); }
static u64 ktime_get_mono_fast_ns(void) { return 1000; }
/* qtrip's clock (runtime/pauses.ts): no pauses here. */
static u64 qt_clock(void) { return ktime_get_mono_fast_ns(); }
static u64 qt_kernel_time(u64 t) { return t; }
struct hrtimer { int unused; }; struct irq_work { int unused; };
typedef struct { void (*func)(void *); void *info; } call_single_data_t;
#define HRTIMER_MODE_ABS_PINNED_HARD 0
#define NSEC_PER_SEC 1000000000ULL
/* One online CPU: the scan timer is programmed on this one (fragments/neighbour.ts). */
#define for_each_online_cpu(w) for ((w) = 0; (w) < 1; (w)++)
static int smp_processor_id(void) { return 0; }
static int smp_call_function_single_async(int cpu, call_single_data_t *csd) { return 0; }
static void cpu_relax(void) { }
static void atomic_set(atomic_t *v, int x) { v->counter = x; }
static int atomic_cmpxchg(atomic_t *v, int old, int new) { int cur = v->counter; if (cur == old) v->counter = new; return cur; }
#define ns_to_ktime(x) (x)
static void hrtimer_start(struct hrtimer *t, s64 at, int mode) { }
static void irq_work_queue(struct irq_work *w) { }
static int in_nmi(void) { return 0; }
static int irqs_disabled(void) { return 0; }
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define QT_TABLES 1
#define QT_RULES 1
static u64 qt_threshold[QT_RULES] = { 1000000 };
`;

const MAIN = String.raw`
static int timed(long key)
{
	for (int i = 0; i < QT_INFLIGHT_SLOTS; i++)
		if (qt_inflight[0][i].key.counter == key && qt_inflight[0][i].start)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	/* 1: one lost race; 2: every slot of the key's run taken by others first. */
	if (argv[1][0] == '1') {
		qt_races = 1;
	} else {
		for (int i = 0; i < QT_PROBE_RUN; i++)
			qt_slot_of(0, 1234, i)->key.counter = 5000 + i;
	}
	qt_inflight_start(0, 1234, 1, 0);
	printf("timed=%d untracked=%d\n", timed(1234), atomic_read(&qt_untracked));
	return 0;
}
`;

function run(scenario: "1" | "2"): string {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-inflight-"));
  const c = KERNEL + [neighbour, inflight].map((f) => f.c!.replace(/^#include .*$/gm, "")).join("\n") + MAIN;
  writeFileSync(join(dir, "t.c"), c);
  const cc = spawnSync("gcc", ["-std=gnu11", "-Wno-unused-function", "-o", join(dir, "t"), join(dir, "t.c")], { encoding: "utf8" });
  expect(cc.status, cc.stderr).toBe(0);
  return spawnSync(join(dir, "t"), [scenario], { encoding: "utf8" }).stdout.trim();
}

describe("in-flight table starts", () => {
  test("a start that loses the CAS for a free slot takes the next free one: timed, not counted as untracked", () => {
    expect(run("1")).toBe("timed=1 untracked=0");
  });

  test("a start whose every slot is taken is counted untracked", () => {
    expect(run("2")).toBe("timed=0 untracked=1");
  });

  test("the scan says untracked starts deferred, as the trip's line, and names them as what they are", () => {
    const { outputs } = compileSource('when syscall latency > 1s on comm "dd"\n', { fileName: "r.qt" });
    const scan = outputs!.guest.slice(outputs!.guest.indexOf("static u64 qt_scan("), outputs!.guest.indexOf("static enum hrtimer_restart qt_scan_due"));
    expect(scan).toContain('qt_log_deferred(KERN_WARNING "qtrip: %d starts not timed so far: all %d slots an in-flight table offers their key were taken');
    expect(scan).not.toMatch(/\bprintk\(/);
  });
});
