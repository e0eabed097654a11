// The host script on every Debian suite's own kernel: built by that suite's own
// SystemTap in its chroot (test/support/targets.ts), loaded by that suite's own
// staprun in an emulated KVM host that boots that suite's kernel and loads its
// kvm-amd (Debian 12's 6.1.0-50 with this machine's SystemTap has the full set:
// probe-points, arming, guests, kdump). Per suite, one boot with the rehearsal
// action (both probe points: armed, the channel byte trips, nothing else does),
// and one crash boot with kdump, its action and probe point sampled per suite.
import { beforeAll, describe, expect, it } from "vitest";
import { sampledOut, taken } from "../support/sample.js";
import type { HostAction, HostProbe } from "../../../src/codegen/stap/index.js";
import { listTargets, type Suite, type Target } from "../../support/targets.js";
import { targetMachine } from "../support/machine.js";
import { CRASH, crashBoot, TRIP_RUN, tripTiming } from "./support/crash.js";
import { bootHost, hostModule, KERNEL_PROBES, kvmRuns, matching, section, TRIP, type HostBoot, type LogRecord } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

/** The suites whose kernels the other host tests do not boot. */
const SUITES: Suite[] = ["bullseye", "trixie"];

/** One crashing action per suite: both actions and both probe points are covered across them. */
const CRASHES: Partial<Record<Suite, { action: HostAction; probe: HostProbe }>> = {
  bullseye: { action: "panic", probe: "kvm_pio" },
  trixie: { action: "int13", probe: "kvm_fast_pio" },
};

/** One kvmguest run: every access the probe must ignore, around the one it must not. */
const OPS = ["outb:0x3fe:0x1f", "outb:0x3ff:0x1e", "outw:0x3ff:0x1f", "inb:0x3ff", "outb:0x13ff:0x1f", "outb:0x3ff:0x1f", "outb:0x3ff:0x9f"];
/** The crash in the dump, after the banner: panic()'s line, or the oops int $13 nests into (as on 6.1: kdump.test.ts). */
const CRASH_RECORD: Record<string, RegExp> = {
  panic: /^Kernel panic - not syncing: qtrip: case 'E2E-HOST': guest wrote 0x1f to port 0x3ff$/,
  int13: /^BUG: TASK stack guard page was hit/,
};
const CHANNEL_EXIT = "exit io out port 0x3ff size 1 count 1 data 1f";

/** The rehearsal for one probe point: the script chosen for `target`; `bystander`, another VMM, writes the byte too. */
function rehearsal(probe: HostProbe): string[] {
  return [
    `step ${probe}`,
    `vmm target ${OPS.join(" ")}`,
    "target=$VMM",
    'say "target pid $target"',
    `arm -x $target /lib/qtrip/qt_${probe}.ko`,
    "kvmguest --label bystander outb:0x3ff:0x1f",
    "go target; wait $target",
    "finish $STAPRUN 10; report staprun < /tmp/staprun.out",
  ];
}

/** Without the script's uprobe look-up skip (fragments/kernel-facts.ts, noUprobes), to show what it changes. */
const withoutUprobeSkip = (script: string): string => {
  const block = /\/\* no uprobes \*\/\n#ifndef STAPCONF_UPROBE_UNREGISTER_EXPORTED\n.*\n#endif\n\n/;
  if (!block.test(script)) throw new Error("the host script no longer has the uprobe look-up skip");
  return script.replace(block, "");
};

/** SystemTap 5.1's runtime on 6.12 (the control below shows why the skip is there). */
const CONTROL: Suite[] = ["trixie"];

const targetPid = (log: LogRecord[]) => Number(/^@@ target pid (\d+)$/.exec(matching(log, /^@@ target pid /)[0] ?? "")?.[1]);

// One of the two suites a run (two boots each), rotating with the commit (support/sample.ts); 6.1 is the other files' host.
const HOSTS = listTargets().filter((e) => SUITES.includes(e.suite));
for (const [i, entry] of HOSTS.entries()) {
  const t: Target | undefined = entry.target;
  const sampled = taken("kernels", i, HOSTS.length);
  const title = `Debian ${t?.debianVersion ?? entry.suite} (${t?.kernelRelease}, SystemTap ${t?.stapVersion}) as the emulated KVM host${sampled ? "" : ` (${sampledOut("kernels")})`}`;
  describeInstalled("qemu").skipIf(!t || !sampled)(title, { timeout: 900_000 }, () => {
    describe("rehearsal (action log), both probe points", () => {
      let boot: HostBoot;
      beforeAll(async () => {
        const files: Record<string, string> = {};
        for (const probe of KERNEL_PROBES) {
          files[`lib/qtrip/qt_${probe}.ko`] = await hostModule(`qt_${probe}`, { action: "log", probe, target: t! });
        }
        const control = CONTROL.includes(t!.suite);
        if (control) {
          files["lib/qtrip/qt_control.ko"] = await hostModule("qt_control", { action: "log", probe: "kvm_pio", anyGuest: true, target: t!, edit: withoutUprobeSkip });
        }
        const scenario = [...KERNEL_PROBES.flatMap(rehearsal), ...(control ? ["step control", "refused control /lib/qtrip/qt_control.ko"] : [])];
        boot = await bootHost({ name: `kernels-${t!.suite}-log`, machine: targetMachine(t!), files, scenario: scenario.join("\n") });
      });

      it("boots the suite's kernel and loads its kvm-amd", () => {
        expect(matching(boot.host, /Linux version /)[0]).toContain(t!.kernelRelease.replace(/-amd64$/, ""));
        expect(matching(boot.host, /^@@ host up: /)).toEqual(["@@ host up: /dev/kvm present"]);
      });

      it.each(KERNEL_PROBES)("%s: arms for the chosen VMM with the suite's own staprun", (probe) => {
        const log = boot.step(probe);
        expect(matching(log, /^qtrip: host probe armed: /)).toEqual([
          `qtrip: host probe armed: case 'E2E-HOST', port 0x3ff byte 0x1f, action log, probe ${probe}, only the guest of VMM pid ${targetPid(log)}`,
        ]);
      });

      it.each(KERNEL_PROBES)("%s: one banner, in the KVM_RUN of the channel write, and none for the other writes or the other VMM", (probe) => {
        const log = boot.step(probe);
        const runs = kvmRuns(log, "target");
        // Every access reached KVM as written, and the VM ran to its end.
        expect(runs.map((r) => r.returned?.exit)).toEqual(
          expect.arrayContaining([CHANNEL_EXIT, "exit io out port 0x3ff size 1 count 1 data 9f", "exit io in port 0x3ff size 1 count 1 data a5", "exit hlt: done"]),
        );
        expect(kvmRuns(log, "bystander").map((r) => r.returned?.exit)).toContain(CHANNEL_EXIT);
        const banners = log.filter((r) => TRIP.test(r.text));
        expect(banners.map((r) => r.text)).toEqual([expect.stringContaining(`of VMM 'kvmguest' (pid ${targetPid(log)}) wrote 0x1f to port 0x3ff; rehearsal: logging only`)]);
        const channel = runs.find((r) => r.returned?.exit === CHANNEL_EXIT)!;
        expect(channel.enter).toBeLessThanOrEqual(banners[0]!.t);
        expect(banners[0]!.t).toBeLessThanOrEqual(channel.returned!.t);
      });

      it.each(KERNEL_PROBES)("%s: stops by itself when the chosen VMM exits", (probe) => {
        const log = boot.step(probe);
        expect(matching(log, /^@@ (exited|still running)/)).toEqual(["@@ exited rc=1"]);
        expect(matching(log, /^@@ staprun: ERROR: qtrip: the guest's VMM process/)).toHaveLength(1);
      });

      it.runIf(CONTROL.includes(entry.suite))("control: without the uprobe look-up skip, SystemTap 5.1's module does not start on 6.12", () => {
        const log = boot.step("control");
        expect(matching(log, /^@@ (exited|still running)/)).toEqual(["@@ exited rc=1"]);
        expect(matching(log, /^@@ staprun: /)).toContain("@@ staprun: ERROR: Can't resolve uprobe_unregister!");
        expect(matching(log, /qtrip: host probe armed/)).toEqual([]);
      });
    });

    const sample = CRASHES[entry.suite];
    describe.skipIf(!sample)(`action ${sample?.action}, probe point ${sample?.probe}, with kdump`, () => {
      let boot: HostBoot;
      beforeAll(async () => {
        boot = await crashBoot(sample!.action, sample!.probe, { name: `kernels-${t!.suite}-crash`, target: t! });
      });

      it("refuses to arm without a crash kernel, and arms once kexec -p loaded one", () => {
        expect(matching(boot.step("refuse"), /^@@ staprun: /)[0]).toMatch(/^@@ staprun: ERROR: qtrip: no crash kernel is loaded/);
        expect(matching(boot.step("kexec"), /^@@ kexec -p /)).toEqual(["@@ kexec -p rc=0 kexec_crash_loaded=1"]);
        expect(matching(boot.step("arm"), /^@@ armed$/)).toHaveLength(1);
      });

      it("crashes the host before KVM_RUN returns; the capture kernel's dump holds the banner, then the crash", () => {
        const log = boot.step("trip");
        expect(kvmRuns(log, "trip").map((r) => [r.n, r.returned !== undefined])).toEqual([[1, true], [2, true], [TRIP_RUN, false]]);
        expect(matching(boot.capture, /^@@ vmcore-dmesg rc=/)).toEqual(["@@ vmcore-dmesg rc=0"]);
        const trip = section(boot.dump, "trip")!;
        expect(matching(trip, TRIP)).toHaveLength(1);
        expect(matching(trip, CRASH)[0]).toMatch(CRASH_RECORD[sample!.action]!);
        expect(tripTiming(boot).returned).toBe(false);
      });
    });
  });
}
