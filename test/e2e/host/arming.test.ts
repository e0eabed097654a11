// When the host script may say "armed", and when it refuses, seen in a running
// (emulated) KVM hypervisor, action log. One boot: kvm is loaded by the scenario,
// so scripts can start before it. Each refusal must stop staprun by itself with
// exit status 1 and qtrip's one-line message; what counts is the emulated host's
// kernel log (kvmguest's KVM exits, qtrip's lines, the kernel's kprobes list).
import { beforeAll, describe, expect, it } from "vitest";
import { LOG_BURST } from "../../../src/codegen/stap/host-records.js";
import { bootHost, hostModule, kvmRuns, matching, TRIP, type HostBoot, type LogRecord } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

/** A probe point that cannot exist: the script's probe renamed. */
function renamed(from: string, to: string): (script: string) => string {
  return (script) => {
    if (!script.includes(from)) throw new Error(`the host script no longer has ${from}`);
    return script.replace(from, to);
  };
}

const STAPRUN = /^@@ staprun: /;

/** The writes of the channel byte in the flood step. */
const FLOOD = 3000;

/** staprun's exit and its ERROR lines in a step. */
function stopped(log: LogRecord[]): { exit: string[]; errors: string[] } {
  return {
    exit: matching(log, /^@@ (exited|still running)/),
    errors: matching(log, STAPRUN).filter((l) => l.includes("ERROR")).map((l) => l.replace(STAPRUN, "")),
  };
}

describeInstalled("qemu", "test-kernel", "stap")("host script arming, in an emulated KVM host (kvm loaded by the scenario)", () => {
  let boot: HostBoot;

  beforeAll(async () => {
    const files: Record<string, string> = {
      "lib/qtrip/qt_chosen.ko": await hostModule("qt_chosen", { action: "log", probe: "kvm_fast_pio" }),
      "lib/qtrip/qt_early_fast.ko": await hostModule("qt_early_fast", { action: "log", probe: "kvm_fast_pio", anyGuest: true }),
      "lib/qtrip/qt_early_pio.ko": await hostModule("qt_early_pio", { action: "log", probe: "kvm_pio", anyGuest: true }),
      // kvm_fast_pio_out is inlined away in Debian 6.1's kvm.ko; kvm_no_such_event is no tracepoint.
      "lib/qtrip/qt_inlined.ko": await hostModule("qt_inlined", {
        action: "log",
        probe: "kvm_fast_pio",
        anyGuest: true,
        edit: renamed('function("kvm_fast_pio")', 'function("kvm_fast_pio_out")'),
      }),
      "lib/qtrip/qt_no_event.ko": await hostModule("qt_no_event", {
        action: "log",
        probe: "kvm_pio",
        anyGuest: true,
        edit: renamed('kernel.trace("kvm_pio") ?', 'kernel.trace("kvm_no_such_event") ?'),
      }),
    };
    const early = (module: string, label: string, unload: boolean) => [
      `staprun /lib/qtrip/${module}.ko > /tmp/staprun.out 2>&1 &`,
      "STAPRUN=$!",
      'wait_log "qtrip: host probe not armed yet: kvm is not loaded; waiting for kvm" 10',
      'say "armed lines before kvm: $(dmesg | tail -n +$STEP_LINE | grep -c "qtrip: host probe armed")"',
      "load_kvm",
      'wait_log "qtrip: host probe armed" 10',
      // The order of the kernel log's own records, not wait_log's (the console may run two lines into one under load).
      `say "order: $(dmesg | tail -n +$STEP_LINE | grep -v 'seen: ' | grep -oE 'host probe not armed yet|@@ loading kvm|host probe armed' | tr '\\n' ,)"`,
      "kprobes",
      `kvmguest --label ${label} outb:0x3fe:0x00 outb:0x3ff:0x1f`,
      ...(unload ? ["unload_kvm", 'wait_log "qtrip: host probe disarmed: kvm is not loaded; waiting for kvm" 10'] : []),
      "disarm",
    ];
    boot = await bootHost({
      name: "arming",
      files,
      kvmLater: true,
      timeoutMs: 300_000,
      scenario: [
        "step no-guest",
        "refused no-guest /lib/qtrip/qt_chosen.ko",
        "step early-kvm_fast_pio",
        ...early("qt_early_fast", "early-fast", true),
        "step early-kvm_pio",
        ...early("qt_early_pio", "early-pio", false),
        "step inlined",
        "refused inlined /lib/qtrip/qt_inlined.ko",
        "step no-event",
        "refused no-event /lib/qtrip/qt_no_event.ko",
        // -x must name a VMM process: the pid of no process, a vCPU thread, a process without a VM.
        "step wrong-pid",
        "vmm idle --vcpus 2 outb:0x3fe:0x00",
        'thread=$(ls /proc/$VMM/task | grep -v "^$VMM$" | head -n 1)',
        'say "vcpu thread $thread"',
        "refused no-process -x 99999 /lib/qtrip/qt_chosen.ko",
        "refused thread -x $thread /lib/qtrip/qt_chosen.ko",
        "refused not-vmm -x 1 /lib/qtrip/qt_chosen.ko",
        "go idle; wait $VMM",
        // A libvirt pid file left from an earlier guest, whose pid a later VMM now has (issue 23, item 6).
        "step stale-pidfile",
        "vmm stale outb:0x3fe:0x00",
        'echo $VMM > /tmp/stale.pid; touch -d @$(( $(date +%s) - 600 )) /tmp/stale.pid',
        "refused stale -x $(cat /tmp/stale.pid) /lib/qtrip/qt_chosen.ko qt_pidfile_time=$(stat -c %Y /tmp/stale.pid)",
        "echo $VMM > /tmp/fresh.pid",
        "arm -x $(cat /tmp/fresh.pid) /lib/qtrip/qt_chosen.ko qt_pidfile_time=$(stat -c %Y /tmp/fresh.pid) && say armed",
        "go stale; wait $VMM",
        "finish $STAPRUN 15; report staprun < /tmp/staprun.out",
        // A guest looping on the channel with --host-action log (issue 23, item 5).
        "step flood",
        `vmm flood --quiet outbn:0x3ff:0x1f,${FLOOD}`,
        "arm -x $VMM /lib/qtrip/qt_chosen.ko",
        "go flood; wait $VMM",
        "kill $STAPRUN; wait $STAPRUN",
        'say "staprun ended"',
      ].join("\n"),
    });
  });

  it("refuses without a chosen guest (no -x), before anything is armed", () => {
    const log = boot.step("no-guest");
    expect(stopped(log)).toEqual({
      exit: ["@@ exited rc=1"],
      errors: [
        "ERROR: qtrip: no guest chosen: run with -x VMM_PID, the guest's QEMU process (libvirt: -x $(cat /run/libvirt/qemu/DOMAIN.pid)), or compile with --any-guest to let any guest on this host trip it",
      ],
    });
    expect(matching(log, /qtrip: host probe (armed|not armed)/)).toEqual([]);
  });

  describe.each(["kvm_fast_pio", "kvm_pio"])("loaded before kvm, probe point %s", (probe) => {
    const step = `early-${probe}`;
    const label = probe === "kvm_pio" ? "early-pio" : "early-fast";

    it("says it waits for kvm, not that it is armed; arms when kvm loads", () => {
      const log = boot.step(step);
      expect(matching(log, /^@@ (seen|not seen): qtrip: host probe (not armed yet|armed)/)).toEqual([
        "@@ seen: qtrip: host probe not armed yet: kvm is not loaded; waiting for kvm",
        "@@ seen: qtrip: host probe armed",
      ]);
      expect(matching(log, /^@@ armed lines before kvm: /)).toEqual(["@@ armed lines before kvm: 0"]);
      // The probe may arm as soon as kvm.ko is in, before kvm-amd is and the scenario says "kvm loaded".
      expect(matching(log, /^@@ order: /), log.map((r) => r.text).join("\n")).toEqual([
        "@@ order: host probe not armed yet,@@ loading kvm,host probe armed,",
      ]);
      if (probe === "kvm_fast_pio") expect(matching(log, /^@@ kprobes: .* kvm_fast_pio\+0x0\s+kvm\b/)).toHaveLength(1);
    });

    it("then trips on the guest's write", () => {
      const log = boot.step(step);
      expect(kvmRuns(log, label).map((r) => r.returned?.exit)).toContain("exit io out port 0x3ff size 1 count 1 data 1f");
      expect(matching(log, TRIP)).toHaveLength(1);
    });
  });

  it("says it is disarmed and waits again when kvm is unloaded", () => {
    const log = boot.step("early-kvm_fast_pio");
    expect(matching(log, /^@@ kvm unloaded: /)).toEqual(["@@ kvm unloaded: 0 kvm modules left"]);
    expect(matching(log, /^@@ (seen|not seen): qtrip: host probe disarmed/)).toEqual(["@@ seen: qtrip: host probe disarmed: kvm is not loaded; waiting for kvm"]);
  });

  it.each([
    [
      "inlined",
      "a kprobe on a function inlined away (kvm_fast_pio_out)",
      "ERROR: qtrip: cannot arm: kvm is loaded but the host probe point is not (kprobe kvm:kvm_fast_pio: the function is missing or inlined on this kernel; try --host-probe kvm_pio; registration: error -2)",
    ],
    [
      "no-event",
      "a tracepoint that did not resolve when the script was built",
      "ERROR: qtrip: cannot arm: kvm is loaded but the host probe point is not (tracepoint kvm_pio: not attached; a script built without arch/x86/kvm/trace.h in the kernel build tree has no such probe: add the header and build it again, or use --host-probe kvm_fast_pio; registration: never attempted)",
    ],
  ])("refuses when the probe point cannot be registered (%s: %s), never saying armed", (step, _what, error) => {
    const log = boot.step(step);
    expect(stopped(log)).toEqual({ exit: ["@@ exited rc=1"], errors: [error] });
    expect(matching(log, /qtrip: host probe armed/)).toEqual([]);
  });

  it("refuses an -x that is not a VMM process: no such process, a vCPU thread, a process without a VM", () => {
    const log = boot.step("wrong-pid");
    const vmm = /^@@ vmm idle pid (\d+) threads /.exec(matching(log, /^@@ vmm idle /)[0]!)![1];
    const thread = /^@@ vcpu thread (\d+)$/.exec(matching(log, /^@@ vcpu thread /)[0]!)![1];
    expect(thread).not.toBe(vmm);
    expect(stopped(log)).toEqual({
      exit: ["@@ exited rc=1", "@@ exited rc=1", "@@ exited rc=1"],
      errors: [
        "ERROR: qtrip: -x 99999: no such process: give the pid of the guest's VMM (QEMU) process",
        `ERROR: qtrip: -x ${thread} is a thread of process ${vmm} ('kvmguest'): give the process's pid, -x ${vmm}`,
        "ERROR: qtrip: -x 1 ('init') has no KVM virtual machine open: give the pid of the guest's VMM (QEMU) process",
      ],
    });
    expect(matching(log, /qtrip: host probe armed/)).toEqual([]);
  });

  it("refuses a stale libvirt pid file: the pid belongs to a VMM started after the file was written", () => {
    const log = boot.step("stale-pidfile");
    const errors = stopped(log).errors;
    expect(errors[0]).toMatch(/^ERROR: qtrip: -x \d+ \('kvmguest'\) started \d+ s after its pid file was written: the pid file is stale and the pid now belongs to another process \(is the guest running\?\)$/);
    expect(matching(log, /^@@ exited rc=/)[0]).toBe("@@ exited rc=1");
    // The same VMM with a pid file written after it started arms, trips, and the script ends with it.
    expect(matching(log, /^@@ armed$/)).toHaveLength(1);
    expect(matching(log, TRIP)).toHaveLength(0); // it wrote only to port 0x3fe
    expect(errors[1]).toMatch(/^ERROR: qtrip: the guest's VMM process \(pid \d+\) has exited: host probe disarmed/);
  });

  it("rate-limits the log action's banners for a guest looping on the write, and counts every write it did not log", () => {
    const log = boot.step("flood");
    expect(matching(log, /^kvmguest flood pid \d+: KVM_RUN returned #\d+ exit hlt/)).toEqual([expect.stringMatching(new RegExp(`#${FLOOD + 1} exit hlt: done$`))]);
    const banners = matching(log, TRIP);
    expect(banners.length).toBeGreaterThan(0);
    expect(banners.length).toBeLessThanOrEqual(LOG_BURST * 4);
    const said = (line: string, pattern: RegExp) => Number(pattern.exec(line)?.[1] ?? 0);
    const inBanners = banners.reduce((n, b) => n + said(b, /\((\d+) earlier writes not logged: at most 10 banners every 5 s\)$/), 0);
    const atEnd = matching(log, /^qtrip: \d+ writes of the channel byte since the last banner were not logged/);
    expect(atEnd).toHaveLength(1);
    // Every write is either a banner or in a count.
    expect(banners.length + inBanners + said(atEnd[0]!, /^qtrip: (\d+) writes/)).toBe(FLOOD);
  });
});
