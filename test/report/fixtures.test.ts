// The reader and the analysis on real captures: the 'starved' scenario recorded in
// the emulated 5.10, 6.1 and 6.12 KVM hosts (test/fixtures/report/RELEASE, cut to
// the 0.3 s before the trip; regenerate-fixtures.test.ts made them). Each kernel
// prints its events its own way (5.10's four flag characters, its kvm_exit and
// kvm_entry fields); the verdict must be the same on all three.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadCapture } from "../../src/report/capture.js";
import { buildReport } from "../../src/report/report.js";
import { repoRoot } from "../support/stap.js";

const dir = join(repoRoot, "test/fixtures/report");
const kernels = existsSync(dir) ? readdirSync(dir).sort() : [];

test("there are fixtures from each host kernel", () => {
  expect(kernels).toEqual(["5.10", "6.1", "6.12"]);
});

describe.each(kernels)("the capture from the emulated %s host", (kernel) => {
  const capture = loadCapture(join(dir, kernel));
  const report = buildReport(capture);

  test("its host kernel is the one named", () => {
    expect(capture.meta.hostKernel?.startsWith(kernel)).toBe(true);
  });

  test("every kind of record the freeze enables is read", () => {
    const kinds = new Set(capture.trace.events.map((e) => e.kind));
    for (const kind of ["kvm_entry", "kvm_exit", "sched_switch", "sched_wakeup", "stack"]) expect(kinds, kind).toContain(kind);
    const pio = capture.trace.events.filter((e) => e.kind === "other" && e.name === "kvm_pio");
    expect(pio.map((e) => (e as { text: string }).text.trim())).toContain("pio_write at 0x3ff size 1 count 1 val 0x1f");
  });

  test("the buffer covers the window", () => {
    expect(report.buffer.wrapped).toBe(false);
    expect(report.vcpus[0]!.time.unknown).toBe(0);
  });

  test("the verdict: runnable behind the SCHED_FIFO hog on the vCPU's CPU", () => {
    expect(report.verdict).toMatchObject({ problem: true, cause: "runnable", tid: capture.meta.tripTid });
    expect(report.vcpus[0]!.blockers[0]).toMatchObject({ comm: "hog", prio: 49, cpu: 1 });
    expect(report.verdict.line).toMatch(/^vCPU 0 \(tid \d+, kvmguest\) did not run guest code for \d+ ms of the 220 ms before the trip: runnable for \d+ ms behind hog \(tid \d+, prio 49: realtime 50\) on CPU 1/);
  });

  test("the freeze's stack trace ends in the ioctl that ran the vCPU", () => {
    expect(report.stack).toEqual(expect.arrayContaining(["kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl"]));
  });
});
