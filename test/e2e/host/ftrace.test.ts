// The ftrace host backend in the emulated hypervisor: the script qtrip compiles
// (rule.host.sh) run by the host's busybox sh, with nothing but tracefs. One
// boot of Debian 12's 6.1 under lockdown=integrity runs every scenario; Debian
// 11's 5.10 and 13's 6.12 (their own kernels and kvm-amd) one freeze each.
// Every scenario compares tracefs before and after: no instance, no trigger,
// no enabled event may be left, whichever way the script ended.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { sampledOut, taken } from "../support/sample.js";
import { compileSource } from "../../../src/compile.js";
import { listTargets, type Suite } from "../../support/targets.js";
import { targetMachine } from "../support/machine.js";
import { bootHost, kvmRuns, matching, type HostBoot, type HostMachine, type LogRecord } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `case "E2E-HOST"\ntitle "ftrace e2e"\nwhen syscall latency > 10s\n`;
const dir = mkdtempSync(join(tmpdir(), "qtrip-ftrace-"));

/** The script `qtrip compile --host-backend ftrace --host-action ACTION` writes, as a file to put in the host. */
function script(action: string): string {
  const result = compileSource(RULE, { fileName: "rule.qt", hostBackend: "ftrace", hostAction: action });
  const path = join(dir, `${action}.sh`);
  writeFileSync(path, result.outputs!.host);
  return path;
}

/** The SystemTap backend's host script and its launcher (rule.host.sh), as files to put in the host. */
function stapHostFiles(): Record<string, string> {
  const out = compileSource(RULE, { fileName: "rule.qt" }).outputs!;
  const files: Record<string, string> = {};
  for (const [name, text] of [[out.hostName, out.host], [out.hostCompanion!.name, out.hostCompanion!.text]] as const) {
    const path = join(dir, `stap-${name}`);
    writeFileSync(path, text);
    files[`lib/qtrip/stap/${name}`] = path;
  }
  return files;
}

/** The BPF backend's host script, as a file to put in the host. */
function bpfScript(): string {
  const path = join(dir, "bpf.sh");
  writeFileSync(path, compileSource(RULE, { fileName: "rule.qt", hostBackend: "bpf", hostAction: "panic" }).outputs!.host);
  return path;
}

/** Every access the trigger must ignore, before the channel write; then a pause (the script re-arms), and the channel again. */
const IGNORED = ["outb:0x3fe:0x1f", "outb:0x3ff:0x1e", "outw:0x3ff:0x1f", "inb:0x3ff"];
const CHANNEL = "outb:0x3ff:0x1f";

const library = String.raw`
T=/sys/kernel/debug/tracing
# What the script must leave as it found it: instances, triggers and enabled events at the top level.
tracefs_state() {
	echo "instances: $(ls $T/instances | tr '\n' ' ')"
	grep -v '^#' $T/events/*/*/trigger
	grep -H . $T/events/*/*/enable | grep -v ':0$'
	echo "set_event: $(cat $T/set_event | tr '\n' ' ')"
	echo "tracing_on $(cat $T/tracing_on)"
}
# same_state NAME: compares tracefs with the state saved at the start of the boot.
same_state() {
	tracefs_state > /tmp/state-$1 2>&1
	if cmp -s /tmp/state-start /tmp/state-$1; then say "state $1: as before"; else say "state $1: changed"; diff /tmp/state-start /tmp/state-$1 | report diff; fi
}
# capture_report DIR TID: what the test reads of a capture (the console is too slow for all of trace.txt).
capture_report() {
	say "capture files: $(ls $1 | tr '\n' ' ')"
	report meta < $1/meta.json
	grep ': kvm_pio: ' $1/trace.txt | report pio
	grep -A 8 '<stack trace>' $1/trace.txt | report stack
	# The thread's own records, in task context: an interrupt taken between the trip's record and
	# the traceoff trigger (which runs after the record is committed) records what it does (its
	# entry and exit, the wake-ups it makes) with h or s as the third flag, on whatever thread ran.
	grep -v '<stack trace>' $1/trace.txt | grep -E -- "-$2 +\[" | grep -vE -- '\] [^ ]{2}[hsH]' | tail -n 2 | report last
	tail -n 1 $1/trace.txt | report tail
	say "trace records: $(grep -c ': ' $1/trace.txt) sched: $(grep -c sched_switch $1/trace.txt) exits: $(grep -c kvm_exit $1/trace.txt)"
}
# in_foreground NAME SIG SCRIPT ARGS…: runs the script in the foreground (SIGINT as a terminal leaves it),
# and a background job sends it SIG once it has armed (its pid is in its instance's name).
in_foreground() {
	name=$1; sig=$2; shift 2
	( for i in $(seq 300); do grep -q 'host script armed' /tmp/$name.out 2> /dev/null && break; sleep 0.1; done
	  p=$(ls $T/instances | sed -n 's/^qtrip-E2E-HOST-//p')
	  say "sending SIG$sig to $p"; kill -$sig $p ) &
	sh "$@" > /tmp/$name.out 2>&1
	say "script exited rc=$?"
	report script < /tmp/$name.out
}
`;

/** The freeze scenario: the chosen VMM makes every ignored access, the other VMM writes the channel, then the chosen one does, twice. */
function freeze(captures: number): string[] {
  const ops = [...IGNORED, CHANNEL, ...(captures > 1 ? ["pause:50", ...IGNORED, CHANNEL] : []), "outb:0x3ff:0x9f"];
  return [
    "step freeze",
    "mkdir -p /tmp/cap-freeze",
    "vmm other outb:0x3ff:0x1f",
    "other=$VMM",
    `vmm target ${ops.join(" ")}`,
    "target=$VMM",
    'say "target pid $target"',
    `sh /lib/qtrip/freeze.sh -x $target --captures ${captures} --capture-dir /tmp/cap-freeze > /tmp/freeze.out 2>&1 &`,
    "script=$!",
    "for i in $(seq 300); do grep -q 'host script armed' /tmp/freeze.out && break; sleep 0.1; done",
    "go other; wait $other",
    "go target",
    "finish $script 60",
    "wait $target",
    "report script < /tmp/freeze.out",
    "for d in /tmp/cap-freeze/*; do capture_report $d $target; done",
    "same_state freeze",
  ];
}

describeInstalled("qemu", "test-kernel", "stap")("ftrace backend, Debian 12's 6.1 under lockdown=integrity as the emulated KVM host", { timeout: 900_000 }, () => {
  let boot: HostBoot;
  beforeAll(async () => {
    const scenario = [
      library,
      "mount -t securityfs securityfs /sys/kernel/security",
      'say "lockdown: $(cat /sys/kernel/security/lockdown)"',
      "tracefs_state > /tmp/state-start",
      "report start < /tmp/state-start",
      // The SystemTap backend's launcher on this host: it says, before anything is built, that no unsigned module loads here.
      "step stap-launcher",
      'say "stap on PATH: $(command -v stap || echo none)"',
      'sh /lib/qtrip/stap/rule.host.sh -x $$ > /tmp/stap-launcher.out 2>&1; say "launcher exited rc=$?"',
      "report launcher < /tmp/stap-launcher.out",
      // The BPF backend here: kexec_load is refused, and the script says to load a signed crash kernel with kexec -s.
      "step bpf",
      "vmm bpf outb:0x3fe:0x00",
      "load_crash_kernel",
      'sh /lib/qtrip/bpf.sh -x $VMM > /tmp/bpf.out 2>&1; say "bpf script exited rc=$?"',
      "report bpf < /tmp/bpf.out",
      "go bpf; wait $VMM",
      ...freeze(2),
      // A vCPU hot-added after arming: its thread is watched once the script re-reads the VMM's threads.
      "step hot-add",
      "mkdir -p /tmp/cap-hot",
      `vmm hot --hot-add 20 pause:30 ${CHANNEL}`,
      "target=$VMM",
      "sh /lib/qtrip/freeze.sh -x $target --capture-dir /tmp/cap-hot > /tmp/hot.out 2>&1 & s=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/hot.out && break; sleep 0.1; done",
      "go hot; wait $target",
      "finish $s 30",
      "report script < /tmp/hot.out",
      "same_state hot-add",
      // Refused: not a VMM. Nothing is armed.
      "step refuse",
      "sh /lib/qtrip/freeze.sh -x $$ > /tmp/refuse.out 2>&1; say \"script exited rc=$?\"; report script < /tmp/refuse.out",
      "same_state refuse",
      // SIGINT and SIGHUP to a script in the foreground.
      ...["INT", "HUP"].flatMap((sig) => [
        `step ${sig}`,
        `vmm ${sig} ${CHANNEL}`,
        `in_foreground ${sig} ${sig} /lib/qtrip/freeze.sh -x $VMM --capture-dir /tmp`,
        "kill $VMM; wait $VMM",
        `same_state ${sig}`,
      ]),
      // SIGTERM to two scripts in the background (two cases at once: one instance each).
      "step TERM",
      "vmm one " + CHANNEL,
      "one=$VMM",
      "vmm two " + CHANNEL,
      "two=$VMM",
      "sh /lib/qtrip/freeze.sh -x $one --capture-dir /tmp > /tmp/term1.out 2>&1 & s1=$!",
      "sh /lib/qtrip/log.sh -x $two > /tmp/term2.out 2>&1 & s2=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/term1.out && grep -q 'host script armed' /tmp/term2.out && break; sleep 0.1; done",
      'say "instances: $(ls $T/instances | tr \'\\n\' \' \')"',
      "kill -TERM $s1 $s2",
      "finish $s1 10; finish $s2 10",
      "report script1 < /tmp/term1.out; report script2 < /tmp/term2.out",
      "kill $one $two; wait $one $two",
      "same_state TERM",
      // The VMM exits without a trip.
      "step vmm-exit",
      "vmm gone outb:0x3fe:0x1f",
      "sh /lib/qtrip/freeze.sh -x $VMM --capture-dir /tmp > /tmp/gone.out 2>&1 & s=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/gone.out && break; sleep 0.1; done",
      "go gone; wait $VMM",
      "finish $s 10",
      "report script < /tmp/gone.out",
      "same_state vmm-exit",
      // stacks: the vCPU thread's stack at the trip, then every CPU's.
      "step stacks",
      "mkdir -p /tmp/cap-stacks",
      `vmm stacks ${CHANNEL}`,
      "target=$VMM",
      "sh /lib/qtrip/stacks.sh -x $target --capture-dir /tmp/cap-stacks > /tmp/stacks.out 2>&1 & s=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/stacks.out && break; sleep 0.1; done",
      "go stacks; wait $target",
      "finish $s 30",
      "report script < /tmp/stacks.out",
      "for d in /tmp/cap-stacks/*; do capture_report $d $target; grep -c . $d/cpu-stacks.txt | report cpustacks; head -n 3 $d/cpu-stacks.txt | report cpustacks; done",
      "same_state stacks",
      // log, on a host where tracefs is not mounted: the script mounts it and unmounts it.
      "step log",
      "umount /sys/kernel/debug/tracing 2> /dev/null; umount /sys/kernel/debug",
      'say "tracefs mounts before: $(grep -c tracefs /proc/mounts)"',
      `vmm log ${[...IGNORED, CHANNEL].join(" ")}`,
      "sh /lib/qtrip/log.sh -x $VMM > /tmp/log.out 2>&1 & s=$!",
      "for i in $(seq 300); do grep -q 'host script armed' /tmp/log.out && break; sleep 0.1; done",
      "go log; wait $VMM",
      "finish $s 10",
      "report script < /tmp/log.out",
      'say "tracefs mounts after: $(grep -c tracefs /proc/mounts)"',
      "mount -t debugfs debugfs /sys/kernel/debug",
      "same_state log",
    ];
    boot = await bootHost({
      name: "ftrace-6.1",
      cmdline: ["lockdown=integrity"],
      files: { "lib/qtrip/freeze.sh": script("freeze"), "lib/qtrip/stacks.sh": script("stacks"), "lib/qtrip/log.sh": script("log"), ...stapHostFiles(), "lib/qtrip/bpf.sh": bpfScript() },
      scenario: scenario.join("\n"),
      timeoutMs: 600_000,
    });
  });

  it("runs locked down (integrity)", () => {
    expect(matching(boot.host, /^@@ lockdown: /)).toEqual(["@@ lockdown: none [integrity] confidentiality"]);
  });

  it("the SystemTap backend's launcher refuses before anything runs: this host loads no unsigned module; it names ftrace and bpf", () => {
    const log = boot.step("stap-launcher");
    expect(matching(log, /^@@ (stap on PATH|launcher)/)).toEqual([
      "@@ stap on PATH: none",
      "@@ launcher exited rc=1",
      "@@ launcher: qtrip: this host's kernel is locked down (integrity: Secure Boot, or lockdown= on its command line) and loads no unsigned kernel module, so the SystemTap backend cannot arm here: compile the rule with --host-backend ftrace (freeze, stacks, log: tracefs only) or --host-backend bpf (panic into kdump: kernel 6.1 or later), or sign the module with a key this kernel trusts (stap --sign-module)",
    ]);
  });

  it("the BPF backend: kexec_load is refused here, and the script refuses to arm without a crash kernel, naming kexec -s", () => {
    const log = boot.step("bpf");
    expect(matching(log, /^@@ kexec -p rc=/)).toEqual([expect.stringMatching(/^@@ kexec -p rc=[1-9]\d* kexec_crash_loaded=0$/)]);
    // (The kernel's "Lockdown: kexec: kexec of unsigned images is restricted" is a notice, below the console's level.)
    expect(matching(log, /^@@ bpf script exited rc=/)).toEqual(["@@ bpf script exited rc=1"]);
    expect(matching(log, /^@@ bpf: /).join("\n")).toContain("this host is locked down (integrity), so load a signed one with kexec_file_load: kexec -s -p");
  });

  freezeChecks(() => boot, 2);

  it("a vCPU hot-added after arming is watched from the next re-read of the VMM's threads, and its channel write freezes", () => {
    const log = boot.step("hot-add");
    const vmm = Number(/^@@ vmm hot pid (\d+) threads/.exec(matching(log, /^@@ vmm hot pid /)[0]!)![1]);
    expect(matching(log, /^qtrip: host script armed: /)[0]).toContain(`VMM pid ${vmm} (threads ${vmm})`);
    const changed = matching(log, /^@@ script: qtrip: the VMM's threads changed: now watching /);
    expect(changed).toEqual([expect.stringMatching(new RegExp(`now watching ${vmm} \\d+$`))]);
    const added = Number(changed[0]!.split(" ").pop());
    expect(added).not.toBe(vmm);
    expect(matching(log, /^qtrip: TRIP case E2E-HOST: /)).toEqual([expect.stringContaining(`vCPU thread ${added} of VMM pid ${vmm} wrote 0x1f to port 0x3ff`)]);
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=0"]);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state hot-add: as before"]);
  });

  it("refuses a pid that is not a VMM, arming nothing", () => {
    const log = boot.step("refuse");
    expect(matching(log, /^@@ script/)).toEqual([expect.stringMatching(/^@@ script exited rc=1$/), expect.stringMatching(/^@@ script: qtrip: -x \d+ \(\S+\) has no KVM virtual machine open/)]);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state refuse: as before"]);
  });

  it.each(["INT", "HUP"])("SIG%s: the script disarms, removes its instance and leaves tracefs as it was", (sig) => {
    const log = boot.step(sig);
    const code = sig === "INT" ? 130 : 129;
    expect(matching(log, /^@@ script exited/)).toEqual([`@@ script exited rc=${code}`]);
    expect(matching(log, /^@@ script: qtrip: SIG/)).toEqual([`@@ script: qtrip: SIG${sig}: disarming`]);
    expect(matching(log, /^@@ script: qtrip: removed tracefs instance /)).toHaveLength(1);
    expect(matching(log, /^@@ state /)).toEqual([`@@ state ${sig}: as before`]);
  });

  it("SIGTERM to two scripts at once (two cases): one instance each, both removed", () => {
    const log = boot.step("TERM");
    const instances = matching(log, /^@@ instances: /)[0]!.split(/\s+/).filter((n) => n.startsWith("qtrip-"));
    expect(instances).toHaveLength(2);
    expect(new Set(instances).size).toBe(2);
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=143", "@@ exited rc=143"]);
    expect(matching(log, /^@@ script[12]: qtrip: removed tracefs instance /)).toHaveLength(2);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state TERM: as before"]);
  });

  it("the VMM exits without a trip: the script says so, stops and leaves nothing", () => {
    const log = boot.step("vmm-exit");
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=1"]);
    expect(matching(log, /^@@ script: qtrip: the guest's VMM process \(pid \d+\) has exited: disarmed/)).toHaveLength(1);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state vmm-exit: as before"]);
  });

  it("stacks: the vCPU thread's stack at the trip, every CPU's with sysrq l, and how late that was", () => {
    const log = boot.step("stacks");
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=0"]);
    expect(matching(log, /^@@ stack: /).join("\n")).toMatch(/kvm_fast_pio|kvm_pio|emulator_pio/);
    const late = matching(log, /^@@ script: qtrip: every CPU's stack \(sysrq l\): .* taken \d+ us after the trip$/);
    expect(late).toHaveLength(1);
    console.log(`stacks: ${late[0]}`);
    expect(Number(matching(log, /^@@ cpustacks: \d+$/)[0]!.split(": ")[1])).toBeGreaterThan(3);
    expect(matching(log, /^@@ cpustacks: /).join("\n")).toMatch(/sysrq: Show backtrace of all active CPUs/);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state stacks: as before"]);
  });

  it("log (rehearsal): prints the trip only, on a host where it mounted tracefs itself and unmounted it", () => {
    const log = boot.step("log");
    expect(matching(log, /^@@ tracefs mounts/)).toEqual(["@@ tracefs mounts before: 0", "@@ tracefs mounts after: 0"]);
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=0"]);
    const trips = matching(log, /^qtrip: TRIP \(rehearsal/);
    expect(trips).toEqual([expect.stringMatching(/kvm_pio: pio_write at 0x3ff size 1 count 1 val 0x1f/)]);
    expect(matching(log, /^@@ state /)).toEqual(["@@ state log: as before"]);
  });
});

/** The freeze checks, for any kernel's boot: `captures` trips of the chosen VMM, one capture each. */
function freezeChecks(get: () => HostBoot, captures: number): void {
  const targetPid = (log: LogRecord[]) => Number(/^@@ target pid (\d+)$/.exec(matching(log, /^@@ target pid /)[0] ?? "")?.[1]);

  it("freeze: arms, one capture per channel write of the chosen VMM, then ends by itself and leaves tracefs as it was", () => {
    const log = get().step("freeze");
    expect(matching(log, /^qtrip: host script armed: case E2E-HOST, action freeze, VMM pid /)).toHaveLength(1);
    expect(matching(log, /^@@ exited rc=/)).toEqual(["@@ exited rc=0"]);
    expect(matching(log, /^@@ script: qtrip: capture \d saved: /)).toHaveLength(captures);
    expect(matching(log, /^@@ capture files: /)).toEqual(Array(captures).fill("@@ capture files: meta.json trace.txt "));
    expect(matching(log, /^@@ state /)).toEqual(["@@ state freeze: as before"]);
  });

  it("freeze: the capture's last event of the vCPU thread is the channel write; no other access, and no other VMM's write, stopped it", () => {
    const log = get().step("freeze");
    const target = targetPid(log);
    // Every access reached KVM; the other VMM wrote the channel byte first.
    expect(kvmRuns(log, "other").map((r) => r.returned?.exit)).toContain("exit io out port 0x3ff size 1 count 1 data 1f");
    const last = matching(log, /^@@ last: /);
    expect(last).toHaveLength(2 * captures);
    for (let c = 0; c < captures; c++) expect(last[2 * c + 1]).toMatch(new RegExp(`-${target} +\\[\\d+\\].*: kvm_pio: pio_write at 0x3ff size 1 count 1 val 0x1f *$`));
    // The ignored accesses are in the buffer, before the stop: the trigger saw them and did not fire.
    const pio = matching(log, /^@@ pio: /).join("\n");
    for (const seen of ["pio_write at 0x3fe size 1 count 1 val 0x1f", "pio_write at 0x3ff size 1 count 1 val 0x1e", "pio_write at 0x3ff size 2 count 1 val 0x1f", "pio_read at 0x3ff size 1 count 1"]) {
      expect(pio).toContain(seen);
    }
    expect(pio).not.toContain("val 0x9f");
    expect(matching(log, /^@@ stack: /).join("\n")).toMatch(/=> kvm_fast_pio/);
    const metaLines = matching(log, /^@@ meta: /).map((l) => l.slice("@@ meta: ".length));
    const meta = JSON.parse(metaLines.slice(0, metaLines.indexOf("}") + 1).join("\n")) as Record<string, unknown>;
    expect(meta).toMatchObject({ case: "E2E-HOST", title: "ftrace e2e", action: "freeze", vmmPid: target, tripTid: target, thresholdNs: 10_000_000_000, channel: { port: 0x3ff, value: 0x1f }, bufferKb: 4096, traceClock: "perf" });
    expect(meta.vcpuThreads).toEqual([{ tid: target, comm: "kvmguest" }]);
    // The trip's time is the channel write record's, in the trace's own clock.
    expect(meta.tripTimestamp).toBe(Number(/ (\d+\.\d+): kvm_pio: /.exec(last[1]!)![1]));
    const delays = matching(log, /^qtrip: TRIP case E2E-HOST: /).map((l) => Number(/stopped (\d+) us later/.exec(l)?.[1]));
    expect(delays).toHaveLength(captures);
    console.log(`freeze delays (trip record → last record, µs): ${delays.join(", ")}`);
  });
}

const SUITES: Suite[] = ["bullseye", "trixie"];
// One of the two other kernels a run, rotating with the commit (support/sample.ts).
const OTHERS = listTargets().filter((e) => SUITES.includes(e.suite));
for (const [i, entry] of OTHERS.entries()) {
  const sampled = taken("ftrace-kernels", i, OTHERS.length);
  const t = entry.target;
  describeInstalled("qemu").skipIf(!t || !sampled)(`ftrace backend, Debian ${t?.debianVersion ?? entry.suite}'s ${t?.kernelRelease} as the emulated KVM host: freeze${sampled ? "" : ` (${sampledOut("ftrace-kernels")})`}`, { timeout: 900_000 }, () => {
    let boot: HostBoot;
    beforeAll(async () => {
      const machine: HostMachine = targetMachine(t!);
      boot = await bootHost({
        name: `ftrace-${t!.suite}`,
        machine,
        files: { "lib/qtrip/freeze.sh": script("freeze") },
        scenario: [library, "tracefs_state > /tmp/state-start", ...freeze(1)].join("\n"),
      });
    });
    freezeChecks(() => boot, 1);
  });
}
