// Prebuilt modules for every Debian suite, as a user makes them: `qtrip build`
// (the CLI, dist/ with this machine's node) runs inside the suite's build target
// (test/support/targets.ts: a chroot with that release's own SystemTap as shipped,
// gcc, make and its current kernel's headers), for that suite's kernel, guest and
// host; qtrip adds what that SystemTap needs (Debian 11, 12: a patched runtime copy
// for the task_work_cancel backport; 13: -B KCFLAGS=-w and no uprobe look-ups),
// never by editing the system's runtime. Then that suite's kernel boots a guest
// whose root has that suite's staprun and stapio only (no compiler, no headers),
// which runs the printed staprun command, as printed: QEMU sees the trip at the
// threshold of the long call and none for the short ones.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { sampledOut, taken } from "../support/sample.js";
import { runtimeKey } from "../../../src/codegen/stap/builder/runtime.js";
import { qtripInTarget, TARGET_QTRIP_CACHE, type TargetQtripRun } from "../../support/target-qtrip.js";
import { listTargets, needsPatchedRuntime, stapOptions, UPROBE_LOOKUP_OPTIONS, type Target } from "../../support/targets.js";
import { targetMachine } from "../support/machine.js";
import { atThreshold, expectTrip, msBetween, THRESHOLD_MS } from "../guest/expect-trip.js";
import { markerAt, PHASE, runGuest } from "../guest/harness.js";
import { loadWithPrintedCommand, printedStaprunCommands } from "../guest/printed-command.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `case "12"\nparam pid: int\nwhen syscall latency > 200ms on pid $pid as "slow call"\n`;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function modinfo(file: string, field: string): string {
  return execFileSync("/usr/sbin/modinfo", ["-F", field, file], { encoding: "utf8" }).trim();
}

/** The system's runtime in the chroot, by content (paths and bytes of every file). */
const systemRuntime = (t: Target) => runtimeKey(join(t.root, "usr/share/systemtap/runtime"), []);

/** The progress lines qtrip must print for this suite's SystemTap and headers, decided here by targets.ts's own reading of the chroot. */
function expectSuiteFixes(t: Target, stderr: string): void {
  const release = escape(t.kernelRelease);
  const options = stapOptions(t);
  for (const role of ["guest", "host"]) {
    const kcflags = new RegExp(`^qtrip: stall_${role} for ${release}: -B KCFLAGS=-w: `, "m");
    const uprobes = new RegExp(`^qtrip: stall_${role} for ${release}: no uprobe_unregister\\(\\) lookup at start`, "m");
    if (options.includes("KCFLAGS=-w")) expect(stderr).toMatch(kcflags);
    else expect(stderr).not.toMatch(kcflags);
    if (options.includes(UPROBE_LOOKUP_OPTIONS[0])) expect(stderr).toMatch(uprobes);
    else expect(stderr).not.toMatch(uprobes);
  }
  const copy = new RegExp(
    `^qtrip: SystemTap's runtime \\(/usr/share/systemtap/runtime\\) does not build for ${release} as shipped; (made|using) a patched copy: ` +
      `${escape(TARGET_QTRIP_CACHE)}/qtrip/(stap-runtime-[0-9a-f]{16}) \\(task_work_cancel → task_work_cancel_func, `,
    "m",
  );
  if (!needsPatchedRuntime(t)) {
    expect(stderr).not.toContain("SystemTap's runtime");
    return;
  }
  const m = copy.exec(stderr);
  expect(m, stderr).not.toBeNull();
  // Said once for both modules, and the copy is real: fixed, in the chroot's cache.
  expect(stderr.split("SystemTap's runtime (").length).toBe(2);
  expect(readFileSync(join(t.root, TARGET_QTRIP_CACHE, "qtrip", m![2]!, "stp_task_work.c"), "utf8")).toMatch(/\btask_work_cancel_func\b/);
}

// One suite a run (a cold `qtrip build` of two modules in a build machine: 2-3 min), rotating with the commit.
const TARGETS = listTargets();
for (const [i, entry] of TARGETS.entries()) {
  const t = entry.target;
  const sampled = taken("prebuilt-suites", i, TARGETS.length);
  const title = `Debian ${t?.debianVersion ?? entry.suite} (${t?.kernelRelease}, SystemTap ${t?.stapVersion}): qtrip build on that suite's build machine${sampled ? "" : ` (${sampledOut("prebuilt-suites")})`}`;
  describeInstalled("qemu").skipIf(!t || !sampled)(title, { timeout: 900_000 }, () => {
    let build: TargetQtripRun;
    let runtimeBefore: string;

    beforeAll(async () => {
      runtimeBefore = systemRuntime(t!);
      build = await qtripInTarget(t!, ["build", "stall.qt", "--kernel", t!.kernelRelease, "--host-kernel", t!.kernelRelease], { "stall.qt": RULE }, { timeout: 900_000 });
      console.log(`${t!.suite}: ${build.stderr.split("\n").filter((l) => l.startsWith("qtrip: built ")).join("; ")}`);
    }, 900_000);

    test("writes both modules for that kernel and prints the staprun commands; the suite's fixes said, the system's runtime untouched", () => {
      expect(build.stderr).not.toMatch(/error|at .*\.js:\d+/i);
      expect(build.status, build.stderr).toBe(0);
      expect(Object.keys(build.outputs).sort()).toEqual(["stall.staprun.txt", "stall_guest.ko", "stall_host.ko"]);
      for (const role of ["guest", "host"]) {
        const ko = build.outputs[`stall_${role}.ko`]!;
        expect(modinfo(ko, "name")).toBe(`stall_${role}`);
        expect(modinfo(ko, "vermagic")).toMatch(new RegExp(`^${escape(t!.kernelRelease)} SMP `));
      }
      const commands = readFileSync(build.outputs["stall.staprun.txt"]!, "utf8");
      expect(build.stdout).toBe(`wrote stall_guest.ko\nwrote stall_host.ko\nwrote stall.staprun.txt\n${commands}`);
      expect(printedStaprunCommands(build.stdout)).toEqual([
        "staprun -L stall_guest.ko pid=VALUE",
        "staprun -L -x VMM_PID stall_host.ko                                                                                          # VMM_PID: the guest's QEMU process",
        "staprun -L -x $(cat /run/libvirt/qemu/DOMAIN.pid) stall_host.ko qt_pidfile_time=$(stat -c %Y /run/libvirt/qemu/DOMAIN.pid)   # libvirt: DOMAIN is the guest's domain name",
      ]);
      expect(commands).toContain(`# In the guest (kernel ${t!.kernelRelease}), as root:`);
      expectSuiteFixes(t!, build.stderr);
      expect(systemRuntime(t!)).toBe(runtimeBefore);
      // Nothing of the run is left in the chroot but its caches.
      expect(readdirSync(join(t!.root, "tmp")).filter((n) => n.startsWith("qtrip-cli-"))).toEqual([]);
    });

    test("a guest with that suite's staprun only runs the printed command: short calls do not trip, a long one trips at the threshold", async () => {
      expect(build.status, build.stderr).toBe(0);
      const [command] = printedStaprunCommands(build.stdout);
      // Calls 1-3 last 100 ms, call 4 one second: it trips 200 ms in.
      const run = await runGuest({
        machine: targetMachine(t!),
        module: build.outputs["stall_guest.ko"]!,
        session: `spawn t nanosleep:100x3 nanosleep:1000
       ${loadWithPrintedCommand(command!, "$pid_t")}
       run t`,
      });
      expect(run.console).toContain("qtrip-e2e: no compiler, no headers");
      // staprun -L exits 0 even when the module's start failed: "armed" is the script's own word.
      expect(run.console).toContain("qtrip: armed: 1 rule(s)");
      markerAt(run, PHASE.armed);
      markerAt(run, PHASE.done);
      const at = expectTrip(run, "slow call", atThreshold(4));
      console.log(`${t!.suite} prebuilt: tripped ${(msBetween(markerAt(run, 4), at) - THRESHOLD_MS).toFixed(1)} ms past the ${THRESHOLD_MS} ms threshold (QEMU's clock)`);
    });

    test("headers that build machine does not have: says which and how to get them; exit 1, nothing written", async () => {
      const other = listTargets().find((e) => e.target && e.target.kernelRelease !== t!.kernelRelease)?.target?.kernelRelease ?? "6.1.0-0-madeup-amd64";
      expect(existsSync(join(t!.root, "lib/modules", other, "build"))).toBe(false);
      const r = await qtripInTarget(t!, ["build", "stall.qt", "--kernel", other], { "stall.qt": RULE });
      expect(r).toMatchObject({ status: 1, stdout: "", outputs: {} });
      expect(r.stderr.split("\n").filter((l) => l.startsWith("qtrip: "))).toEqual([
        `qtrip: no headers for kernel ${other}: /lib/modules/${other}/build does not exist (Debian, Ubuntu: apt install linux-headers-${other}; RHEL, Fedora: dnf install kernel-devel-${other})`,
      ]);
    });
  });
}
