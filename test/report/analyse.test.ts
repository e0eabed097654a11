// The analysis and the verdict on a hand-written trace whose numbers are known.
import { describe, expect, test } from "vitest";
import { analyse } from "../../src/report/analyse.js";
import { parseTrace } from "../../src/report/parse.js";
import { judge } from "../../src/report/verdict.js";
import { SYNTHETIC, SYNTHETIC_META } from "./synthetic.js";

const MS = 1e6;

describe("analysis of a known trace", () => {
  const a = analyse(parseTrace(SYNTHETIC), SYNTHETIC_META);
  const v = a.vcpus[0]!;

  test("the window is the threshold plus 10%, ending at the trip", () => {
    expect(a.window).toEqual({ start: 100.08e9, end: 100.3e9, ns: 220 * MS, source: "threshold" });
    expect(a.buffer).toMatchObject({ wrapped: false, missingNs: 0, entries: { inBuffer: 9, written: 9 } });
  });

  test("time per state adds up to the window", () => {
    expect(v.time).toEqual({ guest: 40 * MS, exit: 30 * MS, runnable: 150 * MS, asleep: 0, idle: 0, stopped: 0, unknown: 0 });
    expect(v.vcpu).toBe(0);
  });

  test("exits by reason, with the time after the switch back in counted to the exit it was handling", () => {
    expect(v.exits).toEqual([
      { reason: "EXIT_NPF", ns: 20 * MS, vmmNs: 0, count: 1 },
      { reason: "EXIT_IOIO", ns: 10 * MS, vmmNs: 0, count: 1 },
    ]);
  });

  test("who ran instead, at what priority, on which CPU", () => {
    expect(v.blockers).toEqual([{ comm: "kworker/1:1", tid: 77, prio: 49, cpu: 1, ns: 150 * MS }]);
    expect(a.cpus.map((c) => c.cpu)).toEqual([1]);
  });

  test("the longest stretch without guest code, and what filled it", () => {
    expect(v.longestGap).toEqual({
      start: 100.1e9,
      end: 100.27e9,
      parts: [
        { state: "runnable", ns: 150 * MS },
        { state: "exit", label: "EXIT_NPF", ns: 20 * MS },
      ],
    });
  });

  test("the freeze's stack trace is kept", () => {
    expect(a.stack).toEqual(["kvm_fast_pio", "kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl"]);
  });

  test("the verdict names the blocker first, then the exits", () => {
    expect(judge(a)).toEqual({
      tid: 1000,
      problem: true,
      cause: "runnable",
      withoutGuestNs: 180 * MS,
      line: "vCPU 0 (tid 1000) did not run guest code for 180 ms of the 220 ms before the trip: runnable for 150 ms behind kworker/1:1 (tid 77, prio 49: realtime 50) on CPU 1, then 30 ms in exits (EXIT_NPF ×1, EXIT_IOIO ×1)",
    });
  });

  test("a window the buffer does not reach back to is said, with how much is missing", () => {
    const wide = analyse(parseTrace(SYNTHETIC), SYNTHETIC_META, 500 * MS);
    expect(wide.buffer).toMatchObject({ wrapped: true, missingNs: 200 * MS });
    expect(wide.vcpus[0]!.time.unknown).toBe(0); // the first record says the thread was in the guest before it
    expect(judge(wide).line).toMatch(/ \(the buffer misses the first 200 ms\)$/);
  });

  test("a short window inside the guest run: the verdict says the vCPU ran normally", () => {
    const meta = { ...SYNTHETIC_META, tripTime: 100.09e9 };
    const quiet = analyse(parseTrace(SYNTHETIC), meta, 50 * MS);
    expect(judge(quiet)).toMatchObject({ problem: false, line: "vCPU 0 (tid 1000) ran guest code normally: 50 ms in the guest, 0.00 ms in exits in the 50 ms before the trip" });
  });
});
