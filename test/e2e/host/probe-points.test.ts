// The host script's trigger, seen in a running (emulated) KVM hypervisor, for
// both probe points, with the rehearsal action (log) so that one boot can try
// every kind of port access. What counts is what the emulated host's kernel log
// shows: the guest's own KVM exits (kvmguest logs each one) and the banner.
import { beforeAll, expect, it } from "vitest";
import { KERNEL_PROBES, type KernelProbe } from "./support/emulated-host.js";
import { bootHost, hostModule, kvmRuns, matching, TRIP, type HostBoot } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

interface Access {
  step: string;
  /** kvmguest operations (see programs/kvmguest.c). */
  ops: string[];
  /** A KVM exit the guest must have seen: the access reached the hypervisor as written. */
  exit: RegExp;
  /** Banners expected, per probe point. */
  trips: Record<KernelProbe, number>;
}

const never = { kvm_fast_pio: 0, kvm_pio: 0 };
const accesses: Access[] = [
  {
    step: "channel-byte",
    // Writes to another port around it: the VM must go on after the trip.
    ops: ["outb:0x3fe:0x00", "outb:0x3ff:0x1f", "outb:0x3fe:0x01"],
    exit: /^exit io out port 0x3ff size 1 count 1 data 1f$/,
    trips: { kvm_fast_pio: 1, kvm_pio: 1 },
  },
  {
    step: "other-byte",
    // 0x9f differs from 0x1f only in the top bit.
    ops: ["outb:0x3ff:0x1e", "outb:0x3ff:0x20", "outb:0x3ff:0x9f"],
    exit: /^exit io out port 0x3ff size 1 count 1 data 9f$/,
    trips: never,
  },
  {
    step: "other-port",
    // 0x13ff is 0x3ff in a 10-bit (ISA) decode.
    ops: ["outb:0x3fe:0x1f", "outb:0x13ff:0x1f"],
    exit: /^exit io out port 0x13ff size 1 count 1 data 1f$/,
    trips: never,
  },
  { step: "word", ops: ["outw:0x3ff:0x1f"], exit: /^exit io out port 0x3ff size 2 count 1 data 1f 00$/, trips: never },
  { step: "dword", ops: ["outl:0x3ff:0x1f"], exit: /^exit io out port 0x3ff size 4 count 1 data 1f 00 00 00$/, trips: never },
  {
    step: "rep-outsb-other-bytes",
    // AL holds 0x1f meanwhile: a probe reading AL instead of the data would trip.
    ops: ["outsb:0x3ff:0x41,0x1e,0x42"],
    exit: /^exit io out port 0x3ff size 1 count \d data 41/,
    trips: never,
  },
  {
    step: "rep-outsb-with-channel-byte",
    // The probe points differ here. KVM emulates a string write one byte at a time, each
    // with count 1 (each one a KVM_EXIT_IO of count 1, as the original QEMU probe saw it):
    // the kvm_pio tracepoint sees the 0x1f like a plain OUT; kvm_fast_pio never sees it.
    ops: ["outsb:0x3ff:0x41,0x1f,0x42"],
    exit: /^exit io out port 0x3ff size 1 count 1 data 1f$/,
    trips: { kvm_fast_pio: 0, kvm_pio: 1 },
  },
  {
    step: "in",
    // AL holds 0x1f before the IN: a probe that ignores the direction would trip.
    ops: ["inb:0x3ff"],
    exit: /^exit io in port 0x3ff size 1 count 1 data a5$/,
    trips: never,
  },
];

function guestStep(a: Access): string {
  return `step ${a.step}\nkvmguest --label ${a.step} ${a.ops.join(" ")}\n`;
}

// Without the begin probe's workaround (see src/codegen/stap/fragments/kernel-facts.ts), to show what it changes.
const withoutWorkaround = (script: string): string => {
  const line = "\t_stp_kallsyms_on_each_symbol = NULL;\n";
  if (!script.includes(line)) throw new Error("the kvm_fast_pio script no longer has the workaround line");
  return script.replace(line, "");
};

describeInstalled("qemu", "test-kernel", "stap").each(KERNEL_PROBES)("host script, probe point %s, action log, in an emulated KVM host", (probe) => {
  let boot: HostBoot;

  beforeAll(async () => {
    // staprun names a module after its file: they keep the names stap -m gave them.
    // Every access is its own kvmguest process: qt_host lets any guest trip it; qt_chosen is the default, one guest.
    const files: Record<string, string> = {
      "lib/qtrip/qt_host.ko": await hostModule("qt_host", { action: "log", probe, anyGuest: true }),
      "lib/qtrip/qt_chosen.ko": await hostModule("qt_chosen", { action: "log", probe }),
    };
    if (probe === "kvm_fast_pio") {
      files["lib/qtrip/qt_control.ko"] = await hostModule("qt_control", { action: "log", probe, anyGuest: true, edit: withoutWorkaround });
    }
    boot = await bootHost({
      name: `probe-${probe}`,
      files,
      scenario: [
        "step arm",
        'say "kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"',
        "arm /lib/qtrip/qt_host.ko && say armed",
        "kprobes",
        ...accesses.map(guestStep),
        "disarm",
        // Limited to one VMM: the target waits (set up, pid known) until the probe is armed for it.
        "step one-vmm",
        "vmm target outb:0x3fe:0x00 outb:0x3ff:0x1f",
        "target=$VMM",
        'say "target pid $target"',
        "arm -x $target /lib/qtrip/qt_chosen.ko",
        "kvmguest --label bystander outb:0x3ff:0x1f",
        "go target; wait $target",
        // The chosen VMM has exited: the script stops by itself.
        "finish $STAPRUN 10; report staprun < /tmp/staprun.out",
        ...(probe === "kvm_fast_pio"
          ? ["step control", "refused control /lib/qtrip/qt_control.ko", "kprobes", "kvmguest --label control outb:0x3ff:0x1f"]
          : []),
      ].join("\n"),
    });
  });

  it("arms without a crash kernel (action log is a rehearsal)", () => {
    const log = boot.step("arm");
    expect(matching(log, /^@@ kexec_crash_loaded=/)).toEqual(["@@ kexec_crash_loaded=0"]);
    expect(matching(log, /^@@ armed$/)).toHaveLength(1);
    expect(matching(log, /^qtrip: host probe armed: /)).toEqual([
      `qtrip: host probe armed: case 'E2E-HOST', port 0x3ff byte 0x1f, action log, probe ${probe}, ANY guest on this host (compiled with --any-guest)`,
    ]);
  });

  if (probe === "kvm_fast_pio") {
    it("registers a kprobe on kvm.ko's kvm_fast_pio (the kernel's kprobes list)", () => {
      expect(matching(boot.step("arm"), /^@@ kprobes: .* kvm_fast_pio\+0x0\s+kvm\b/)).toHaveLength(1);
    });

    it("control: without the begin probe's workaround, stap 4.8 registers nothing, and the script says so and stops", () => {
      const log = boot.step("control");
      expect(matching(log, /qtrip: host probe armed/)).toEqual([]);
      expect(matching(log, /^@@ (exited|still running)/)).toEqual(["@@ exited rc=1"]);
      expect(matching(log, /^@@ staprun: /)).toContain(
        "@@ staprun: ERROR: qtrip: cannot arm: kvm is loaded but the host probe point is not (kprobe kvm:kvm_fast_pio: the function is missing or inlined on this kernel; try --host-probe kvm_pio; registration: never attempted)",
      );
      expect(matching(log, /^@@ kprobes: /).filter((l) => l.includes("kvm_fast_pio"))).toEqual([]);
      expect(kvmRuns(log, "control").map((r) => r.returned?.exit)).toContain("exit io out port 0x3ff size 1 count 1 data 1f");
      expect(matching(log, TRIP)).toEqual([]);
    });
  }

  it.each(accesses)("$step: the guest's access reaches KVM; banners as expected", (a) => {
    const log = boot.step(a.step);
    const runs = kvmRuns(log, a.step);
    expect(runs.map((r) => r.returned?.exit)).toEqual(expect.arrayContaining([expect.stringMatching(a.exit)]));
    expect(runs.at(-1)?.returned?.exit).toBe("exit hlt: done"); // the VM ran to its end
    expect(matching(log, TRIP)).toHaveLength(a.trips[probe]);
  });

  it("trips in the vCPU thread while it is inside KVM_RUN, and the VM goes on (log)", () => {
    const log = boot.step("channel-byte");
    const [banner] = log.filter((r) => TRIP.test(r.text));
    expect(banner?.text).toMatch(/; rehearsal: logging only$/);
    const run = kvmRuns(log, "channel-byte").find((r) => r.returned?.exit.includes("data 1f"))!;
    expect(run.enter).toBeLessThanOrEqual(banner!.t);
    expect(banner!.t).toBeLessThanOrEqual(run.returned!.t);
  });

  it("limited to one VMM process (staprun -x PID): trips for that process only", () => {
    const log = boot.step("one-vmm");
    const target = Number(/^@@ target pid (\d+)$/.exec(matching(log, /^@@ target pid /)[0]!)![1]);
    expect(matching(log, /^qtrip: host probe armed: /)).toEqual([expect.stringMatching(new RegExp(`, only the guest of VMM pid ${target}$`))]);
    // Both guests wrote the channel byte; KVM saw both writes.
    for (const label of ["bystander", "target"]) {
      expect(kvmRuns(log, label).map((r) => r.returned?.exit)).toContain("exit io out port 0x3ff size 1 count 1 data 1f");
    }
    expect(matching(log, TRIP)).toEqual([expect.stringContaining(`of VMM 'kvmguest' (pid ${target}) wrote`)]);
  });

  it("stops by itself, saying so, when the chosen VMM process exits (a restarted guest has a new pid)", () => {
    const log = boot.step("one-vmm");
    const target = Number(/^@@ target pid (\d+)$/.exec(matching(log, /^@@ target pid /)[0]!)![1]);
    expect(matching(log, /^@@ (exited|still running)/)).toEqual(["@@ exited rc=1"]);
    expect(matching(log, /^@@ staprun: /)).toContain(
      `@@ staprun: ERROR: qtrip: the guest's VMM process (pid ${target}) has exited: host probe disarmed; a restarted guest has a new pid: run the host script again with -x NEW_PID`,
    );
  });
});
