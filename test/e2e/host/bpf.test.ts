// The BPF host backend end to end (docs/host-bpf.md): `qtrip compile
// --host-backend bpf --host-action panic` gives one sh file, run in the emulated
// hypervisor (support/emulated-host.ts) with nothing but busybox and kexec there:
// no compiler, no module, no bpftool. One boot of Debian 12's 6.1 host with kdump:
//   - it refuses to arm without a crash kernel, and on a process that holds no KVM VM;
//   - armed, then the crash kernel unloaded (kexec -p -u): the channel write does
//     not crash the host, the script says why and ends, leaving nothing;
//   - SIGTERM and the VMM's exit disarm it: a channel write afterwards does nothing;
//   - armed on one VMM: another VMM's channel write, and the target's other
//     writes (another byte, another port, 2 bytes, an IN) do nothing; its channel
//     write crashes the host into the capture kernel before KVM_RUN returns, and
//     the dump's log ends at that KVM_RUN;
//   - the dump (makedumpfile -d 31, as test/e2e/chain saves it), read here with
//     crash: the vCPU thread's stack, and our program the only one loaded.
// Debian 12's own bpftool is tried first on the same object: it cannot attach it.
// About 110 s for this boot (makedumpfile 17 s, crash 22 s of it) and 25 s for 5.10.
// And one boot of Debian 11's 5.10 host, which it refuses in one line naming the
// other backends; one of Debian 13's 6.12 host, where the same script crashes it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampledOut, taken } from "../support/sample.js";
import { compileSource } from "../../../src/compile.js";
import { repoRoot } from "../../support/stap.js";
import { listTargets } from "../../support/targets.js";
import { withLibraries } from "../support/libraries.js";
import { crash } from "../chain/support/debuggers.js";
import { captureEntries, dumpDisk, readDump, removeDumps, type DumpDisk } from "../chain/support/dump.js";
import { targetMachine } from "../support/machine.js";
import { bootHost, kvmRuns, matching, section, type HostBoot, type LogRecord } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `case "E2E-HOST"\nwhen syscall latency > 10s\n`;

/** The host script `qtrip compile --host-backend bpf --host-action panic rule.qt` writes, as a file here. */
function bpfScript(): string {
  const result = compileSource(RULE, { fileName: "rule.qt", hostBackend: "bpf", hostAction: "panic" });
  if (!result.outputs) throw new Error(`the rule does not compile: ${JSON.stringify(result.diagnostics)}`);
  expect(result.outputs.hostName).toBe("rule.host.sh");
  const path = join(mkdtempSync(join(tmpdir(), "qtrip-bpf-")), "rule.host.sh");
  writeFileSync(path, result.outputs.host);
  return path;
}

/** The same accesses as kernels.test.ts: all but the sixth must be ignored; the seventh must never run. */
const OPS = ["outb:0x3fe:0x1f", "outb:0x3ff:0x1e", "outw:0x3ff:0x1f", "inb:0x3ff", "outb:0x13ff:0x1f", "outb:0x3ff:0x1f", "outb:0x3ff:0x9f"];
const TRIP_RUN = 6;

/** Scenario shell: start the script in the background (SCRIPT is its pid) until it says armed or ends. */
const scriptShell = String.raw`
# bpf_arm NAME ARGS: runs the host script in the background; returns once it says "armed", or it ended.
bpf_arm() {
  name=$1; shift
  sh /lib/qtrip/rule.host.sh "$@" > /tmp/$name.out 2>&1 &
  SCRIPT=$!
  for i in $(seq 600); do
    grep -q 'qtrip: armed' /tmp/$name.out && { say "armed"; return 0; }
    kill -0 $SCRIPT 2>/dev/null || break
    sleep 0.1
  done
  say "not armed"; return 1
}
# bpf_end NAME: waits for the script to end by itself (15 s), reports its exit and output, and what is left.
bpf_end() {
  finish $SCRIPT 15 || { kill $SCRIPT; wait $SCRIPT; }
  report script < /tmp/$1.out
  say "left: loaders=$(ps -o comm | grep -c qtrip-bpf-crash) dirs=$(ls -d /tmp/qtrip-bpf.* 2>/dev/null | wc -l)"
}
# refuse NAME ARGS: the script, which must stop by itself.
bpf_refuse() { name=$1; shift; sh /lib/qtrip/rule.host.sh "$@" > /tmp/$name.out 2>&1; say "exited rc=$?"; report script < /tmp/$name.out; }
`;

/**
 * Debian 12's own bpftool (7.1, this machine's, with its libraries) on the same object: it loads it,
 * but has no way to attach a tracing program (no autoattach): why the script carries a loader.
 * Harmless here: the object's channel is unset (port 0) until a loader sets it.
 */
const bpftoolSteps = [
  "step bpftool",
  "mount -t bpf bpf /sys/fs/bpf",
  'say "bpftool: $(bpftool version | head -1)"',
  "bpftool prog loadall /lib/qtrip/qtrip-crash.bpf.o /sys/fs/bpf/a autoattach > /tmp/bt.out 2>&1; say \"autoattach rc=$?\"; report bpftool < /tmp/bt.out",
  "bpftool prog loadall /lib/qtrip/qtrip-crash.bpf.o /sys/fs/bpf/q > /tmp/bt.out 2>&1; say \"loadall rc=$?\"; report bpftool < /tmp/bt.out",
  'say "pinned: $(ls /sys/fs/bpf/q) links: $(bpftool link list | grep -c .)"',
  "rm -rf /sys/fs/bpf/q /sys/fs/bpf/a",
];

const scenario = [
  scriptShell,
  ...bpftoolSteps,
  "step refuse-no-crash-kernel",
  "vmm first outb:0x3ff:0x1f",
  "bpf_refuse nokernel -x $VMM",
  "go first; wait $VMM",
  'say "survived the write of a refused script"',
  "step kexec",
  "load_crash_kernel",
  "step refuse-not-a-vmm",
  "bpf_refuse notvmm -x 1",
  "step unloaded-at-trip",
  "vmm gone outb:0x3ff:0x1f",
  "bpf_arm gone -x $VMM",
  "kexec -p -u",
  'say "unloaded: kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"',
  "go gone; wait $VMM",
  'say "survived the trip with no crash kernel"',
  "bpf_end gone",
  "step signal",
  "load_crash_kernel",
  "vmm term outb:0x3ff:0x1f",
  "bpf_arm term -x $VMM",
  "kill -TERM $SCRIPT",
  "bpf_end term",
  "go term; wait $VMM",
  'say "survived the write after SIGTERM"',
  // SIGINT and SIGHUP to a script in the foreground (a background job has SIGINT ignored): its pid from a shell that execs it.
  ...["INT", "HUP"].flatMap((sig) => [
    `step ${sig}`,
    `vmm ${sig} outb:0x3ff:0x1f`,
    `( for i in $(seq 600); do grep -q 'qtrip: armed' /tmp/${sig}.out 2>/dev/null && break; sleep 0.1; done; say "armed"; kill -${sig} $(cat /tmp/${sig}.pid) ) &`,
    `sh -c 'echo $$ > /tmp/${sig}.pid; exec sh /lib/qtrip/rule.host.sh "$@"' sh -x $VMM > /tmp/${sig}.out 2>&1; say "exited rc=$?"`,
    `report script < /tmp/${sig}.out`,
    'say "left: loaders=$(ps -o comm | grep -c qtrip-bpf-crash) dirs=$(ls -d /tmp/qtrip-bpf.* 2>/dev/null | wc -l)"',
    `go ${sig}; wait $VMM`,
    `say "survived the write after SIG${sig}"`,
  ]),
  "step vmm-exit",
  "vmm brief outb:0x3fe:0x00",
  "bpf_arm brief -x $VMM",
  "go brief; wait $VMM",
  "bpf_end brief",
  "kvmguest --label after outb:0x3ff:0x1f",
  'say "survived a write after the VMM exited"',
  "step arm",
  `vmm trip ${OPS.join(" ")}`,
  "bpf_arm trip -x $VMM",
  "kvmguest --label bystander outb:0x3ff:0x1f",
  'say "survived another VMM\'s write"',
  "step trip",
  "go trip; wait $VMM",
  'say "the host survived the trip"',
].join("\n");

const said = (log: LogRecord[], pattern: RegExp) => matching(log, pattern).map((t) => t.replace(/^@@ (script: )?/, ""));

describeInstalled("qemu", "test-kernel", "stap")("bpf host backend, Debian 12's 6.1 host with kdump", () => {
  let boot: HostBoot;
  let disk: DumpDisk;
  afterAll(removeDumps);
  beforeAll(async () => {
    // The capture kernel saves the dump with Debian's makedumpfile, as test/e2e/chain does, for crash to read here.
    disk = dumpDisk();
    boot = await bootHost({
      name: "bpf-6.1",
      files: { "lib/qtrip/rule.host.sh": bpfScript(), "lib/qtrip/qtrip-crash.bpf.o": join(repoRoot, "dist/bpf/qtrip-crash.bpf.o") },
      entries: [...withLibraries([{ file: "/usr/sbin/bpftool", at: "usr/sbin/bpftool" }]), ...captureEntries([31])], // kdump-tools' default level only
      drives: [disk.drive],
      crashkernel: "384M",
      memoryMb: 1536,
      scenario,
      timeoutMs: 400_000,
    });
  }, 420_000);

  it("Debian 12's bpftool 7.1 loads the object but cannot attach it (no autoattach)", () => {
    const log = boot.step("bpftool");
    expect(said(log, /^@@ bpftool: bpftool v/)).toEqual([expect.stringMatching(/^bpftool: bpftool v7\.1\./)]);
    expect(said(log, /^@@ (autoattach|loadall) rc=/)).toEqual(["autoattach rc=255", "loadall rc=0"]);
    expect(said(log, /^@@ pinned: /)).toEqual(["pinned: qtrip_trip links: 0"]);
  });

  it("refuses to arm without a crash kernel, in one line, and the write then does nothing", () => {
    const log = boot.step("refuse-no-crash-kernel");
    expect(said(log, /^@@ (exited|script: )/)).toEqual([
      "exited rc=1",
      "qtrip: no crash kernel is loaded, so a trip would leave no dump: load one (kexec -p, or kdump-config load)",
    ]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it("refuses a process that holds no KVM VM", () => {
    expect(matching(boot.step("kexec"), /^@@ kexec -p /)).toEqual(["@@ kexec -p rc=0 kexec_crash_loaded=1"]);
    expect(said(boot.step("refuse-not-a-vmm"), /^@@ (exited|script: )/)).toEqual(["exited rc=1", "qtrip: process 1 (init) has no KVM VM open: not a VMM"]);
  });

  it("with the crash kernel unloaded after arming, the channel write does not crash: it says why, ends, and leaves nothing", () => {
    const log = boot.step("unloaded-at-trip");
    expect(matching(log, /^@@ (armed|unloaded)/)).toEqual(["@@ armed", "@@ unloaded: kexec_crash_loaded=0"]);
    expect(kvmRuns(log, "gone").map((r) => r.returned?.exit)).toEqual(["exit io out port 0x3ff size 1 count 1 data 1f", "exit hlt: done"]);
    expect(matching(log, /survived/)).toHaveLength(1);
    expect(matching(log, /^qtrip: case E2E-HOST: TRIP by thread \d+ of pid \d+, but no crash kernel is loaded any more: NOT crashing/)).toHaveLength(1);
    expect(said(log, /^@@ (exited|left)/)).toEqual(["exited rc=3", "left: loaders=0 dirs=0"]);
  });

  it("SIGTERM disarms it: it ends, leaves nothing, and a channel write afterwards does nothing", () => {
    const log = boot.step("signal");
    expect(said(log, /^@@ (armed|exited|left|script: qtrip: disarmed)/)).toEqual([
      "armed",
      "exited rc=143",
      "qtrip: disarmed: signal Terminated",
      "left: loaders=0 dirs=0",
    ]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it.each([
    ["INT", 130],
    ["HUP", 129],
  ])("SIG%s to the script in the foreground disarms it: it ends, leaves nothing, and a channel write afterwards does nothing", (sig, rc) => {
    const log = boot.step(String(sig));
    expect(said(log, /^@@ (armed|exited|left|script: qtrip: disarmed)/)).toEqual(["armed", `exited rc=${rc}`, "qtrip: disarmed: signal Terminated", "left: loaders=0 dirs=0"]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it("the VMM's exit disarms it", () => {
    const log = boot.step("vmm-exit");
    expect(said(log, /^@@ (armed|exited|left|script: qtrip: disarmed)/)).toEqual([
      "armed",
      "exited rc=0",
      expect.stringMatching(/^qtrip: disarmed: the VMM \(pid \d+\) exited$/),
      "left: loaders=0 dirs=0",
    ]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it("armed on one VMM: another VMM's channel write does nothing", () => {
    const log = boot.step("arm");
    expect(matching(log, /^@@ armed$/)).toHaveLength(1);
    expect(matching(log, /^qtrip: case E2E-HOST: armed: a write of byte 0x1f to port 0x3ff by VMM pid \d+ crashes this host into kdump$/)).toHaveLength(1);
    expect(kvmRuns(log, "bystander").map((r) => r.returned?.exit)).toEqual(["exit io out port 0x3ff size 1 count 1 data 1f", "exit hlt: done"]);
    expect(matching(log, /survived/)).toHaveLength(1);
  });

  it("crashes at the channel write, not before: the console's last KVM_RUN to return is the one before it", () => {
    const log = boot.step("trip");
    const runs = kvmRuns(log, "trip");
    // The console may miss the tripping KVM_RUN's entry (the crash outran it): the dump has it, below.
    expect(runs.filter((r) => r.returned).map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(runs[3]!.returned?.exit).toMatch(/^exit io in port 0x3ff size 1/);
    expect(matching(log, /survived/)).toEqual([]);
    expect(matching(boot.capture, /^@@ capture kernel up/)).toHaveLength(1); // the next kernel on the console is the capture kernel
  });

  it("boots the capture kernel, and the dump's log ends at the tripping KVM_RUN, which never returned", () => {
    expect(matching(boot.capture, /^@@ (capture kernel up|vmcore-dmesg rc=)/)).toEqual([
      expect.stringMatching(/^@@ capture kernel up: \/proc\/vmcore present/),
      "@@ vmcore-dmesg rc=0",
    ]);
    const trip = section(boot.dump, "trip");
    expect(trip).toBeDefined();
    expect(kvmRuns(trip!, "trip").map((r) => [r.n, r.returned !== undefined])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, n < TRIP_RUN]));
    expect(trip![trip!.length - 1]!.text).toMatch(new RegExp(`^kvmguest trip pid \\d+: KVM_RUN enter #${TRIP_RUN}$`));
    expect(matching(section(boot.dump, "arm")!, /^qtrip: case E2E-HOST: armed: /)).toHaveLength(1);
  });

  it("the dump, read with crash: the vCPU thread's stack runs crash_kexec ← (the program) ← kvm_fast_pio ← KVM_RUN", () => {
    const vmcore = readDump(disk, 31);
    expect(vmcore).toBeDefined();
    const out = crash(vmcore!, ["bt", "bpf -P"]);
    const bt = out.get("bt")!;
    expect(bt).toMatch(/COMMAND: "kvmguest"/);
    expect(bt).toMatch(/RSI: 000000000000ae80/); // KVM_RUN
    const frames = [...bt.matchAll(/#\d+ \[[0-9a-f]+\] (\S+) at/g)].map((m) => m[1]!);
    // crash cannot name the JIT'd program or its trampoline: they sit between crash_kexec and kvm_fast_pio, with no frame of their own.
    expect(frames.slice(0, 7)).toEqual(["machine_kexec", "__crash_kexec", "crash_kexec", "kvm_fast_pio", "kvm_arch_vcpu_ioctl_run", "kvm_vcpu_ioctl", "__x64_sys_ioctl"]);
    // The one BPF program in the crashed kernel is ours: the disarmed ones, and bpftool's, left nothing loaded.
    const bpf = out.get("bpf -P")!;
    expect(bpf.match(/^\s*\d+\s+[0-9a-f]{16}\s+[0-9a-f]{16}\s+\S+/gm)).toEqual([expect.stringMatching(/\sTRACING$/)]);
    expect(bpf).toMatch(/NAME: "qtrip_trip"/);
  }, 300_000);
});

const target = (suite: string) => listTargets().find((e) => e.suite === suite)?.target;
// One of the two other kernels a run, rotating with the commit (support/sample.ts); 6.1 runs every time.
const onTrixie = taken("bpf-kernels", 0, 2);
const bullseye = onTrixie ? undefined : target("bullseye");
const trixie = onTrixie ? target("trixie") : undefined;
if (onTrixie) describe.skip(`bpf host backend, Debian 11's 5.10 host: ${sampledOut("bpf-kernels")}`, () => it.skip("sampled out", () => {}));
else describe.skip(`bpf host backend, Debian 13's 6.12 host: ${sampledOut("bpf-kernels")}`, () => it.skip("sampled out", () => {}));

describeInstalled("qemu", "test-kernel", "stap").skipIf(!trixie)("bpf host backend, Debian 13's 6.12 host with kdump", () => {
  it("the same object and loader arm, and the channel write crashes the host; the dump's log ends at that KVM_RUN", async () => {
    const boot = await bootHost({
      name: "bpf-6.12",
      machine: targetMachine(trixie!),
      files: { "lib/qtrip/rule.host.sh": bpfScript() },
      crashkernel: "256M",
      timeoutMs: 300_000,
      scenario: [scriptShell, "step kexec", "load_crash_kernel", "step arm", `vmm trip ${OPS.join(" ")}`, "bpf_arm trip -x $VMM", "step trip", "go trip; wait $VMM", 'say "the host survived the trip"'].join("\n"),
    });
    expect(matching(boot.step("arm"), /^qtrip: case E2E-HOST: armed: /)).toHaveLength(1);
    expect(matching(boot.step("trip"), /survived/)).toEqual([]);
    const trip = section(boot.dump, "trip");
    expect(trip).toBeDefined();
    expect(kvmRuns(trip!, "trip").map((r) => [r.n, r.returned !== undefined])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, n < TRIP_RUN]));
    expect(trip![trip!.length - 1]!.text).toMatch(new RegExp(`^kvmguest trip pid \\d+: KVM_RUN enter #${TRIP_RUN}$`));
  }, 320_000);
});

describeInstalled("qemu", "test-kernel", "stap").skipIf(!bullseye)("bpf host backend, Debian 11's 5.10 host", () => {
  it("refuses in one line that names the ftrace and SystemTap backends", async () => {
    const boot = await bootHost({
      name: "bpf-5.10",
      machine: targetMachine(bullseye!),
      files: { "lib/qtrip/rule.host.sh": bpfScript() },
      scenario: [scriptShell, "step refuse", "vmm old outb:0x3fe:0x00", "bpf_refuse old -x $VMM", "go old; wait $VMM"].join("\n"),
    });
    expect(said(boot.step("refuse"), /^@@ (exited|script: )/)).toEqual([
      "exited rc=1",
      expect.stringMatching(
        /^qtrip: this host's kernel \(5\.10\.\S+\) cannot run the bpf backend: it needs Linux >= 6\.1 with BTF; compile with --host-backend ftrace \(tracefs only: no crash\) or --host-backend stap \(SystemTap: a module\)$/,
      ),
    ]);
  }, 300_000);
});
