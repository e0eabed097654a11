// `io latency > D on device "NAME"` in a real guest with virtio disks: QEMU throttles one
// of them to 1 request a second (throttling.iops-total=1), so O_DIRECT reads on it
// (qt-trigger dread:DEV, a request each, never the page cache) stay in flight about a second.
import { expect, test } from "vitest";
import { expectTrip, msBetween, SLACK_MS } from "./expect-trip.js";
import { compileRule } from "../support/compile.js";
import { bootRules, buildModule, lastMarkerBeforeTrip, markerAt, PHASE, runGuest, trips, virtioDisk } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const RULES = `when io latency > 500ms on device "vdb" as "vdb slow"
when io latency > 3s on device "vda" as "vda very slow"
`;

/** A fresh 1 MiB raw disk; `throttled`: one request a second. */
function disk(throttled: boolean): string {
  return virtioDisk({ mib: 1, throttling: throttled ? "iops-total=1" : undefined });
}

const VIRTIO = ["virtio_pci", "virtio_blk"];

/**
 * An io latency rule beside a syscall rule whose sys_enter handler spins 1 ms for each getppid
 * (a change to the built script, for tests only): with a getppid loop on the one vCPU, a
 * completion interrupt almost always comes while that handler runs.
 */
function widenedScript(): string {
  const { guest } = compileRule({ source: 'when io latency > 500ms as "slow io"\nwhen syscall latency > 10s on comm "nobody"\n' });
  const enter = 'probe kernel.trace("raw_syscalls:sys_enter") {\n';
  expect(guest).toContain(enter);
  return `${guest.replace(enter, `${enter}\tif ($id == 110) qt_e2e_widen() # getppid\n`)}\n%{\n#include <linux/delay.h>\n%}\nfunction qt_e2e_widen() %{\n\tmdelay(1);\n%}\n`;
}

const WIDENED_SESSION = `spawn l getppid:4000
                spawn t dread:/dev/vdbx100 nanosleep:1000 dread:/dev/vdcx3
                arm
                run l t`;


describeInstalled("qemu", "test-kernel", "stap")("io latency in a real guest", { timeout: 180_000 }, () => {
  test("a read held back by a throttled vdb trips 500 ms after it was issued", async () => {
    const run = await bootRules(RULES, {
      kernelModules: VIRTIO,
      drives: [disk(false), disk(true)],
      session: `spawn t dread:/dev/vdbx3
                arm
                run t`,
    });
    expectTrip(run, "vdb slow");
    const call = lastMarkerBeforeTrip(run);
    expect(call).toBeGreaterThanOrEqual(1);
    expect(call).toBeLessThanOrEqual(3);
    const latency = msBetween(markerAt(run, call), trips(run)[0]!.us);
    expect(latency).toBeGreaterThanOrEqual(500);
    expect(latency).toBeLessThanOrEqual(500 + SLACK_MS);
  });

  test("fast reads on vdb and slow ones on another device do not trip; then a longer wait on vda does", async () => {
    // vda is the throttled one now: its reads (calls 51-53) take about a second each, past
    // vdb's 500 ms but not vda's 3 s; then five readers at once queue up for 5 s.
    const run = await bootRules(RULES, {
      kernelModules: VIRTIO,
      drives: [disk(true), disk(false)],
      session: `spawn t dread:/dev/vdbx50 dread:/dev/vdax3
                ${[1, 2, 3, 4, 5].map((i) => `spawn r${i} base:0x${(0x80 + i * 2).toString(16)} dread:/dev/vda`).join("\n")}
                arm
                run t
                run r1 r2 r3 r4 r5`,
    });
    expectTrip(run, "vda very slow");
    // The tripping request was issued after the first reader's marker, and waited 3 s.
    const readers = Math.min(...[1, 2, 3, 4, 5].map((i) => markerAt(run, 0x81 + i * 2)));
    expect(readers).toBeGreaterThan(markerAt(run, 53));
    expect(msBetween(readers, trips(run)[0]!.us)).toBeGreaterThanOrEqual(3000);
  });

  test("completions that interrupt another probe's handler are not lost: fast reads beside a syscall loop do not trip; then a slow one does", async () => {
    // SystemTap runs one probe handler per CPU at a time: a probe that fires meanwhile (the
    // completion interrupt's block_rq_complete, inside a sys_enter handler) is skipped, and
    // its request stays "in flight" — unless handlers run with interrupts off (INTERRUPTIBLE=0),
    // so the interrupt waits for the handler. Here the window is widened: the sys_enter
    // handler spins 1 ms for each getppid (a change to the built script, for this test only) while a getppid
    // loop keeps the one vCPU in them; vdb answers at once (calls 1-100), vdc is throttled (102-104).
    const run = await runGuest({
      module: await buildModule(widenedScript()),
      kernelModules: VIRTIO,
      drives: [disk(false), disk(false), disk(true)],
      session: WIDENED_SESSION,
    });
    markerAt(run, PHASE.armed);
    markerAt(run, PHASE.done);
    expectTrip(run, "slow io");
    expect(trips(run)[0]!.us).toBeGreaterThan(markerAt(run, 102));
  }, 300_000);
});
