// The host script's crash actions end to end, in an emulated KVM hypervisor
// with kdump (support/crash.ts): it refuses to arm without a crash kernel, and a
// refused script never trips; once `kexec -p` has loaded one, a guest's write of
// the channel byte crashes the host before KVM_RUN returns, the capture kernel
// boots, and vmcore-dmesg reads the crashed kernel's log, banner included, out of
// /proc/vmcore. Everything asserted is in the emulated host's kernel log or the dump.
//
// Each case is one boot (15–20 s under TCG): all four run in CI. Between arming with a crash
// kernel and the trip, one more step unloads it (kexec -p -u) and trips: the host must stay up.
import { beforeAll, expect, it } from "vitest";
import { onSlot, sampledOut } from "../support/sample.js";
import type { HostAction } from "../../../src/codegen/stap/index.js";
import { KERNEL_PROBES } from "./support/emulated-host.js";
import { crashBoot, CRASH, TRIP_RUN, tripTiming } from "./support/crash.js";
import { kvmRuns, matching, section, TRIP, type HostBoot } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

const actions: HostAction[] = ["int13", "panic"];
// Each action crashes the host through one probe point a run, the pairing rotating with the commit (support/sample.ts):
// both actions and both probe points every run, all four pairs over two commits.
const cases = KERNEL_PROBES.flatMap((probe, p) => actions.map((action, a) => ({ action, probe, sampled: onSlot("kdump", a, p, KERNEL_PROBES.length) })));

interface Expected {
  words: string;
  /** The crash as the dump shows it. */
  crash: RegExp;
  /** Whether the console shows it too: an oops raised in a double fault reaches only the log buffer. */
  onConsole: boolean;
}

const expectations: Record<string, Expected> = {
  // int $13 without the error code #GP expects: the oops nests until the stack guard page.
  int13: { words: "crashing the host with int $13 (kdump)", crash: /^BUG: TASK stack guard page was hit/, onConsole: false },
  panic: {
    words: "calling panic() (kdump)",
    crash: /^Kernel panic - not syncing: qtrip: case 'E2E-HOST': guest wrote 0x1f to port 0x3ff$/,
    onConsole: true,
  },
};

describeInstalled("qemu", "test-kernel", "stap").each(cases)("host script, action $action, probe point $probe, with kdump", ({ action, probe, sampled }) => {
  if (!sampled) {
    it.skip(sampledOut("kdump"), () => {});
    return;
  }
  let boot: HostBoot;
  const expected = expectations[action]!;

  beforeAll(async () => {
    boot = await crashBoot(action, probe);
  });

  it("refuses to arm while no crash kernel is loaded: staprun fails with qtrip's message", () => {
    const log = boot.step("refuse");
    expect(matching(log, /^@@ (exited|still running)/)).toEqual(["@@ exited rc=1"]);
    expect(matching(log, /^@@ loaded=/)).toEqual(["@@ loaded=0"]);
    expect(matching(log, /^@@ staprun: /)[0]).toMatch(/^@@ staprun: ERROR: qtrip: no crash kernel is loaded, so a trip would leave no dump/);
    expect(matching(log, /qtrip: host probe armed/)).toEqual([]);
  });

  it("a refused script never trips: the host survives a guest's write of the channel byte", () => {
    const log = boot.step("refused-trip");
    expect(kvmRuns(log, "refused-trip").map((r) => r.returned?.exit)).toEqual([
      "exit io out port 0x3ff size 1 count 1 data 1f",
      "exit hlt: done",
    ]);
    expect(matching(log, TRIP)).toEqual([]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it("arms once kexec -p has loaded a crash kernel", () => {
    expect(matching(boot.step("kexec"), /^@@ kexec -p /)).toEqual(["@@ kexec -p rc=0 kexec_crash_loaded=1"]);
    expect(matching(boot.step("arm"), /^@@ armed$/)).toHaveLength(1);
  });

  it("armed, then the crash kernel unloaded: the trip logs why, does not crash the host, and the script ends", () => {
    const log = boot.step("unloaded");
    expect(matching(log, /^@@ (armed|kexec -p -u|the host survived|exited|still running)/)).toEqual([
      "@@ armed",
      "@@ kexec -p -u rc=0 kexec_crash_loaded=0",
      "@@ the host survived the trip",
      "@@ exited rc=1",
    ]);
    expect(matching(log, TRIP)).toEqual([
      expect.stringMatching(/; NOT crashing: no crash kernel is loaded any more \(unloaded since the script armed\), and a crash would leave no dump; host probe disarmed$/),
    ]);
    expect(matching(log, /^@@ staprun: ERROR/)).toEqual(["@@ staprun: ERROR: qtrip: no crash kernel was loaded at the trip: the host was not crashed; host probe disarmed"]);
    expect(kvmRuns(log, "unloaded").map((r) => r.returned?.exit)).toEqual(["exit io out port 0x3ff size 1 count 1 data 1f", "exit hlt: done"]);
    expect(matching(log, /^@@ kexec -p rc=0 kexec_crash_loaded=1$/)).toHaveLength(1); // loaded again for the next step
  });

  it("crashes the host in the vCPU thread, before KVM_RUN returns (console)", () => {
    const log = boot.step("trip");
    expect(matching(log, TRIP)).toEqual([expect.stringMatching(new RegExp(`; ${escape(expected.words)}$`))]);
    expect(kvmRuns(log, "trip").map((r) => [r.n, r.returned !== undefined])).toEqual([[1, true], [2, true], [TRIP_RUN, false]]);
    expect(matching(log, /survived/)).toEqual([]);
    if (expected.onConsole) expect(matching(log, CRASH)[0]).toMatch(expected.crash);
    expect(matching(boot.capture, /^@@ capture kernel up/)).toHaveLength(1); // the next kernel on the console is the capture kernel
  });

  it("boots the capture kernel, whose /proc/vmcore holds the crashed kernel's log: banner, then the crash", () => {
    expect(matching(boot.capture, /^@@ capture kernel up/)).toEqual(["@@ capture kernel up: /proc/vmcore present"]);
    expect(matching(boot.capture, /^@@ vmcore-dmesg rc=/)).toEqual(["@@ vmcore-dmesg rc=0"]);
    // The dump, not the console, is what a support engineer gets: it must tell the whole story.
    const trip = section(boot.dump, "trip");
    expect(trip).toBeDefined();
    expect(matching(trip!, TRIP)).toHaveLength(1);
    expect(matching(trip!, CRASH)[0]).toMatch(expected.crash);
    const timing = tripTiming(boot);
    expect(timing.returned).toBe(false);
    expect(timing.toCrashMs).toBeGreaterThanOrEqual(timing.toBannerMs);
  });

  if (action === "panic") {
    it("keeps the tripping vCPU thread's stack in the dump (KVM's port-I/O exit < KVM_RUN ioctl)", () => {
      const trace = section(boot.dump, "trip")!.map((r) => r.text);
      const frames = trace.slice(trace.findIndex((t) => t === "Call Trace:"));
      // Reliable frames (no "?"): the unwinder walked this stack, unlike int13's.
      for (const fn of ["panic", "kvm_fast_pio", "kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl"]) {
        expect(frames).toContainEqual(expect.stringMatching(new RegExp(`^ ${fn}\\+0x`)));
      }
    });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
