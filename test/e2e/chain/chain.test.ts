// The whole chain, in one boot per host action (support/chain.ts): in the
// emulated KVM hypervisor, Debian's QEMU with KVM boots a Linux guest that loads
// the guest module qtrip generated for a nanosleep rule; the host runs the host
// module generated for the same rule, armed on that QEMU with kdump loaded. The
// guest's trip crashes the host; its capture kernel saves the dump with
// makedumpfile at two filter levels onto a disk read back here; Debian's crash
// and drgn open it, and so does qtrip's helper (src/dump/qtrip-vmm.py).
//
// Each boot takes 80–100 s under TCG; the debuggers about 30 s more.
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sampledOut, taken } from "../support/sample.js";
import type { HostAction } from "../../../src/codegen/stap/index.js";
import { matching, type LogRecord } from "../host/support/emulated-host.js";
import { repoRoot } from "../../support/stap.js";
import { CHAIN_ROTATION, chainBoot, freezeChainBoot, NMI_RULE, SYSCALL_RULE, THRESHOLD_MS, type ChainBoot, type ChainRule, type FreezeChainBoot } from "./support/chain.js";
import { loadCapture, type Capture } from "../../../src/report/capture.js";
import { analyse } from "../../../src/report/analyse.js";
import { crash, drgn, VMM_HELPER } from "./support/debuggers.js";
import { DUMP_LEVELS, readDump, removeDumps, type DumpLevel } from "./support/dump.js";
import { chainFigures, dumpWritten } from "./support/figures.js";
import { describeInstalled } from "../../support/installed.js";

const FIND_TEXT = join(repoRoot, "test/e2e/chain/programs/find-text.py");
/** The host's banner for a case: it names the vCPU thread (tid) and the VMM (pid). */
function banner(rule: ChainRule): RegExp {
  return new RegExp(`^qtrip: TRIP case '${rule.case}': guest vCPU thread 'CPU 0/KVM' \\(tid (\\d+)\\) of VMM 'qemu-system-x86' \\(pid (\\d+)\\) wrote 0x1f to port 0x3ff; `);
}

interface Found {
  present: number;
  hits: { phys: string; anon: boolean }[];
}

function findText(vmcore: string, text: string): Found {
  const out = drgn(vmcore, FIND_TEXT, [text]);
  return {
    present: Number(/^present (\d+)$/m.exec(out)?.[1]),
    hits: [...out.matchAll(/^hit (\S+) (\S+)$/gm)].map((m) => ({ phys: m[1]!, anon: m[2] === "anon" })),
  };
}

/** The VMM's pid and its vCPU thread's tid, as the emulated host's scenario listed them. */
function vmmThreads(log: LogRecord[]): { vmm: number; vcpu: number } {
  const line = matching(log, /^@@ vmm threads: /)[0] ?? "";
  return { vmm: Number(/^@@ vmm threads: (\d+)=/.exec(line)?.[1]), vcpu: Number(/(\d+)=CPU 0\/KVM,/.exec(line)?.[1]) };
}

// Both crashing actions on the first rule; the second rule (a guest kernel event) with panic.
afterAll(removeDumps);

const cases: { rule: ChainRule; action: HostAction }[] = [
  { rule: SYSCALL_RULE, action: "panic" },
  { rule: SYSCALL_RULE, action: "int13" },
  { rule: NMI_RULE, action: "panic" },
];

// One case a run (a boot of 2-4 min under TCG, more on a loaded machine), rotating with the commit (support/sample.ts).
// The ftrace freeze below is the fourth case of the rotation, the pauses (pause.test.ts) the fifth, steal (steal.test.ts)
// the sixth, the pauses a rule counts (pause.test.ts) the seventh and eighth.
const CHAIN_CASES = CHAIN_ROTATION;
if (cases.length + 5 !== CHAIN_CASES) throw new Error(`the chain's rotation has ${CHAIN_CASES} slots for ${cases.length + 5} cases`);
/** The host crashed while it waited for the L2 guest to arm: no word either way on the guest's arming. */
function crashedBeforeArming(boot: ChainBoot): boolean {
  const vmm = (() => {
    try {
      return boot.step("vmm");
    } catch {
      return [];
    }
  })();
  return !vmm.some((r) => /^@@ (seen|not seen): qtrip-l2: armed/.test(r.text)) && readDump(boot.disk, 31) !== undefined;
}

describeInstalled("qemu", "test-kernel", "stap", "debuggers").each(cases.map((c, i) => ({ ...c, sampled: taken("chain", i, CHAIN_CASES) })))("the full chain, rule $rule.case, host action $action: a Linux guest under KVM trips the host into kdump", ({ rule, action, sampled }) => {
  if (!sampled) {
    it.skip(sampledOut("chain"), () => {});
    return;
  }
  const BANNER = banner(rule);
  const CHAIN_CASE = rule.case;
  const GUEST_TRIP_RECORD = rule.guestRecord;
  let boot: ChainBoot;
  const dumps = new Map<DumpLevel, string>();
  let tools: Map<string, string>;
  let helper: string;

  beforeAll(async () => {
    boot = await chainBoot(rule, action);
    if (crashedBeforeArming(boot)) {
      // The lab's own crash (once seen: Debian's 6.1 under TCG's nested SVM, 21 s in, the L2 guest still
      // booting): nothing of qtrip's had run on the host. Its log is kept here; the case boots once more.
      const d31 = readDump(boot.disk, 31);
      console.warn(`chain ${rule.name} ${action}: the emulated host crashed before the L2 guest armed (no qtrip module on the host yet); booting again. The dump's log:\n${d31 ? crash(d31, ["log"]).get("log") : "(no dump)"}`);
      boot = await chainBoot(rule, action);
    }
    for (const level of DUMP_LEVELS) {
      const file = readDump(boot.disk, level);
      if (file) dumps.set(level, file);
    }
    const d31 = dumps.get(31);
    tools = d31 ? crash(d31, ["bt -a", "bt -t -a", "ps", "log"]) : new Map();
    helper = d31 ? drgn(d31, VMM_HELPER) : "";
    console.log(`chain ${rule.name} ${action}: ${JSON.stringify(chainFigures(boot))}\n--- qtrip-vmm.py on the -d 31 dump:\n${helper}\n--- crash bt -a:\n${tools.get("bt -a")}`);
  }, 900_000); // past chainBoot's own QEMU timeout (600 s), so a hung boot reports its console

  it("the guest boots under the emulated host's QEMU with KVM and arms its module; the host module arms on that QEMU", () => {
    const log = boot.step("vmm");
    expect(matching(log, /^@@ (seen|not seen): qtrip-l2: armed/)).toEqual(["@@ seen: qtrip-l2: armed"]);
    expect(matching(log, /^@@ l2: \[ *\d+\.\d+\] qtrip: armed: /)).toEqual([expect.stringContaining(`qtrip: armed: 1 rule(s), case '${CHAIN_CASE}'`)]);
    const { vmm, vcpu } = vmmThreads(log);
    expect(vcpu).toBeGreaterThan(0);
    expect(matching(log, /^qtrip: host probe armed/)).toEqual([
      `qtrip: host probe armed: case '${CHAIN_CASE}', port 0x3ff byte 0x1f, action ${action}, probe kvm_fast_pio, only the guest of VMM pid ${vmm}`,
    ]);
  });

  it("the guest's rule trips: the host's banner names the case, the vCPU thread and the VMM, and the host crashes before the guest's call ends", () => {
    const { vmm, vcpu } = vmmThreads(boot.step("vmm"));
    const log = boot.step("trip");
    const banners = matching(log, BANNER);
    expect(banners).toHaveLength(1);
    expect(BANNER.exec(banners[0]!)!.slice(1, 3).map(Number)).toEqual([vcpu, vmm]);
    // The guest's workload never ends (qt-trigger's call lasts 5 s; the shell then waits 10 s); the host never survives.
    expect(matching(log, /qtrip-l2: done|survived/)).toEqual([]);
    const figures = chainFigures(boot);
    expect(figures.goToBannerMs).toBeGreaterThan(0);
    expect(boot.capture.length).toBeGreaterThan(0);
  });

  it("the capture kernel saves the dump with makedumpfile -c at -d 31 and -d 23, onto the disk read back here", () => {
    expect(matching(boot.capture, /^@@ capture kernel up/)).toEqual([expect.stringMatching(/^@@ capture kernel up: \/proc\/vmcore present /)]);
    expect(matching(boot.capture, /^@@ dump disk (un)?mounted/)).toEqual(["@@ dump disk mounted rc=0", "@@ dump disk unmounted rc=0"]);
    for (const level of DUMP_LEVELS) {
      const written = dumpWritten(boot, level);
      expect(written?.rc).toBe(0);
      expect(statSync(dumps.get(level)!).size).toBe(written!.bytes);
    }
    // User pages (the guest's memory among them) make the -d 23 dump the bigger.
    expect(dumpWritten(boot, 23)!.bytes).toBeGreaterThan(dumpWritten(boot, 31)!.bytes);
  });

  it("crash `log`: the dump's kernel log holds the banner, then the crash", () => {
    const log = tools.get("log")!.split("\n").map((l) => l.replace(/^\[ *\d+\.\d+\] /, ""));
    const banner = log.findIndex((l) => BANNER.test(l));
    expect(banner).toBeGreaterThanOrEqual(0);
    const crashLine = action === "panic" ? new RegExp(`^Kernel panic - not syncing: qtrip: case '${CHAIN_CASE}': guest wrote 0x1f to port 0x3ff$`) : /^BUG: |^Oops|^general protection fault|^traps: /;
    expect(log.slice(banner + 1).some((l) => crashLine.test(l))).toBe(true);
  });

  it("crash `bt -a`: a backtrace for every host CPU", () => {
    const cpus = [...tools.get("bt -a")!.matchAll(/^PID: +\d+ +TASK: \S+ +CPU: (\d+) /gm)].map((m) => Number(m[1]));
    expect(cpus.sort()).toEqual([0, 1]);
  });

  it("crash `ps`: the tripping vCPU thread is listed, running on a CPU", () => {
    const { vcpu } = vmmThreads(boot.step("vmm"));
    // crash 8.0.2 lists only the CPUs' active tasks of this kernel ("not found in PID hash"): the helper lists the rest.
    expect(tools.get("ps")).toMatch(new RegExp(`^> +${vcpu} .* RU .* CPU 0/KVM$`, "m"));
  });

  /** The tripping vCPU thread's part of a crash command's output for every CPU, and the functions it names, in order. */
  function vcpuSection(command: string): { text: string; functions: string[] } {
    const { vcpu } = vmmThreads(boot.step("vmm"));
    const text = tools.get(command)!.split(/\n(?=PID: )/).find((b) => b.startsWith(`PID: ${vcpu} `)) ?? "";
    return { text, functions: [...text.matchAll(/^ *(?:#\d+ )?\[\S+\] (\S+) at /gm)].map((m) => m[1]!) };
  }

  /** Whether the functions appear in this order (each after the previous one). */
  function inOrder(functions: string[], wanted: string[]): boolean {
    let at = -1;
    for (const name of wanted) {
      at = functions.indexOf(name, at + 1);
      if (at < 0) return false;
    }
    return true;
  }

  if (action === "panic") {
    it("crash `bt -a`: the tripping vCPU thread's stack runs from the KVM_RUN ioctl to panic; `bt -t` shows KVM's port-I/O exit between them", () => {
      const bt = vcpuSection("bt -a");
      expect(bt.text).toContain('COMMAND: "CPU 0/KVM"');
      expect(inOrder(bt.functions, ["panic", "entry_SYSCALL_64_after_hwframe"])).toBe(true);
      expect(bt.text).toMatch(/ORIG_RAX: 0000000000000010 /); // the ioctl system call, …
      expect(bt.text).toMatch(/RSI: 000000000000ae80 /); // … KVM_RUN
      // crash's unwinder loses its way past the kprobe's ftrace frame in some dumps (kvm_fast_pio skipped, or
      // stale frames in place of kvm_arch_vcpu_ioctl_run and kvm_vcpu_ioctl: seen on 6.1); the text on the stack has them all.
      expect(inOrder(vcpuSection("bt -t -a").functions, ["panic", "kvm_fast_pio", "kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl"])).toBe(true);
    });
  } else {
    it("crash `bt -a`: int13 leaves a double fault on the vCPU thread's overflowed stack, nested page faults, and beneath them the KVM path", () => {
      const bt = vcpuSection("bt -a");
      expect(bt.text).toContain('COMMAND: "CPU 0/KVM"');
      expect(bt.text).toContain("--- <DOUBLEFAULT exception stack> ---");
      expect(inOrder(bt.functions, ["handle_stack_overflow", "exc_double_fault"])).toBe(true);
      expect(bt.functions.filter((f) => f === "asm_exc_page_fault").length).toBeGreaterThan(10);
      // The int $13 itself (vector 13 is #GP's), raised in the probe on KVM's port-I/O exit.
      expect(inOrder(vcpuSection("bt -t -a").functions, ["asm_exc_general_protection", "kvm_fast_pio", "kvm_arch_vcpu_ioctl_run"])).toBe(true);
    });
  }

  it("qtrip's drgn helper lists the VMM, its threads, the vCPU thread in KVM_RUN, and its stack", () => {
    const { vmm, vcpu } = vmmThreads(boot.step("vmm"));
    expect(helper).toContain(`VMM pid ${vmm} comm 'qemu-system-x86': 1 vCPU file(s) kvm-vcpu:0`);
    expect(helper).toMatch(new RegExp(`^  thread ${vcpu} 'CPU 0/KVM' cpu \\d: in KVM_RUN on kvm-vcpu:0`, "m"));
    expect(matching(helper.split("\n").map((text) => ({ t: 0, text })), /^ {2}thread \d+ .*: in KVM_RUN/)).toHaveLength(1);
    const own = helper.slice(helper.indexOf(`thread ${vcpu} `)).split("\n").slice(1).filter((l) => l.startsWith("    "));
    expect(own.some((l) => /kvm_fast_pio\+0x[0-9a-f]+ \[kvm\]/.test(l))).toBe(true);
    expect(own.some((l) => /kvm_arch_vcpu_ioctl_run\+0x[0-9a-f]+ \[kvm\]/.test(l))).toBe(true);
    if (action === "panic") expect(own.some((l) => /^ {4}#\d+ panic\+0x/.test(l))).toBe(true);
    // int13's nested faults hide the KVM frames from unwinders; the helper's stack scan finds them, and the int $13.
    else expect(own.some((l) => /^ {4}\? asm_exc_general_protection\+0x/.test(l))).toBe(true);
  });

  if (rule === SYSCALL_RULE && action === "panic") it("-d 23 keeps the guest's memory (the VMM's anonymous pages): the guest's own record of its trip is there, not in -d 31", () => {
    const kept = findText(dumps.get(23)!, GUEST_TRIP_RECORD);
    expect(kept.hits.length).toBeGreaterThan(0);
    expect(kept.hits.every((h) => h.anon)).toBe(true);
    const filtered = findText(dumps.get(31)!, GUEST_TRIP_RECORD);
    expect(filtered.hits).toEqual([]);
    expect(filtered.present).toBeLessThan(kept.present);
  });
});

// The ftrace backend's freeze at the end of the same chain (issue 21): no crash; the capture must cover
// the guest's whole threshold window before the trip, and `qtrip report` must read it.
const freezeSampled = taken("chain", cases.length, CHAIN_CASES);
describeInstalled("qemu", "test-kernel", "stap", "debuggers").skipIf(!freezeSampled)(`the full chain, rule CHAIN-16, ftrace backend, action freeze: the guest's trip freezes the host's recorder${freezeSampled ? "" : ` (${sampledOut("chain")})`}`, () => {
  let boot: FreezeChainBoot;
  let capture: Capture | undefined;

  beforeAll(async () => {
    boot = await freezeChainBoot(SYSCALL_RULE);
    capture = boot.captureDir ? loadCapture(boot.captureDir) : undefined;
  }, 900_000);

  it("arms for the guest's QEMU; the guest's trip freezes it in the vCPU thread, and the host runs on", () => {
    const { vmm, vcpu } = vmmThreads(boot.step("vmm"));
    expect(vcpu).toBeGreaterThan(0);
    expect(matching(boot.step("vmm"), /^qtrip: host script armed: /)).toEqual([expect.stringContaining(`VMM pid ${vmm} (threads `)]);
    const trip = matching(boot.step("trip"), /^qtrip: TRIP case CHAIN-16: /);
    expect(trip).toEqual([expect.stringContaining(`vCPU thread ${vcpu} of VMM pid ${vmm} wrote 0x1f to port 0x3ff`)]);
    expect(matching(boot.step("trip"), /^@@ exited rc=/)).toEqual(["@@ exited rc=0"]);
    expect(matching(boot.step("save"), /^@@ capture saved$/)).toEqual(["@@ capture saved"]);
  });

  it("the capture's meta.json names the case, the VMM, the tripping vCPU thread and the rule's threshold", () => {
    const { vmm, vcpu } = vmmThreads(boot.step("vmm"));
    expect(capture, "no capture read back from the host's disk").toBeDefined();
    expect(capture!.meta).toMatchObject({ case: "CHAIN-16", vmmPid: vmm, tripTid: vcpu, thresholdNs: THRESHOLD_MS * 1e6 });
  });

  it("the capture covers the guest's whole threshold window before the trip: the buffer starts before it, and the vCPU thread's KVM events fill it", () => {
    const { vcpu } = vmmThreads(boot.step("vmm"));
    const analysis = analyse(capture!.trace, capture!.meta);
    expect(analysis.window.source).toBe("threshold");
    expect(analysis.window.ns).toBeGreaterThanOrEqual(THRESHOLD_MS * 1e6);
    expect(analysis.buffer.wrapped).toBe(false);
    expect(analysis.buffer.first).toBeLessThanOrEqual(capture!.meta.tripTime - THRESHOLD_MS * 1e6);
    const thread = analysis.vcpus.find((v) => v.tid === vcpu)!;
    expect(thread).toBeDefined();
    // Its time over the window is accounted for, none of it unknown: the recorder saw it throughout.
    const total = Object.values(thread.time).reduce((a, b) => a + b, 0);
    expect(total).toBe(analysis.window.ns);
    expect(thread.time.unknown).toBe(0);
    const kvm = capture!.trace.events.filter((e) => e.tid === vcpu && e.kind.startsWith("kvm_") && e.t >= capture!.meta.tripTime - THRESHOLD_MS * 1e6 && e.t <= capture!.meta.tripTime);
    expect(kvm.length).toBeGreaterThan(0);
    console.log(`chain freeze: buffer from ${((capture!.meta.tripTime - analysis.buffer.first) / 1e6).toFixed(0)} ms before the trip; the vCPU thread's window: ${JSON.stringify(thread.time)}`);
  });
});
