// --host-probe qemu, the original post's host probe (a uprobe in QEMU's
// kvm_arch_post_run), in the emulated KVM hypervisor with kdump. QEMU needs its
// debug information: programs/build-qemu.sh builds Debian's QEMU from its source
// package (x86_64 system emulator, KVM only) into /var/cache/qtrip once; later
// runs reuse it. The script is built with stap -x against a QEMU running here
// (stap finds QEMU through the VMM process, as on a hypervisor), and QEMU runs in
// the emulated host as a real VMM: a microvm whose firmware (ours) writes 0x1f to
// COM1's scratch register once at once (nothing is armed yet), then waits for a
// byte on COM1 (the scenario sends it once the script is armed) and writes again.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, expect, it } from "vitest";
import { HOST_STAP_OPTIONS } from "../../../src/codegen/stap/index.js";
import { repoRoot } from "../../support/stap.js";
import { compileRule, stapModule } from "../support/compile.js";
import { withLibraries } from "../support/libraries.js";
import { CRASH } from "./support/crash.js";
import { bootHost, matching, section, type HostBoot } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

/** The banner, from QEMU's vCPU thread (named with -name debug-threads=on). */
const TRIP_QEMU = /^qtrip: TRIP case 'E2E-HOST': guest vCPU thread 'CPU 0\/KVM' \(tid \d+\) of VMM 'qemu-system-x86' \(pid \d+\) wrote 0x1f to port 0x3ff; calling panic\(\) \(kdump\)$/;

const work = mkdtempSync(join(tmpdir(), "qtrip-e2e-qemu-"));

/** 64 KiB of firmware, mapped at 0xf0000; the reset vector (F000:FFF0) jumps to its start. */
function firmware(): string {
  const bios = Buffer.alloc(0x10000, 0xf4); // hlt
  Buffer.from([
    ...[0xba, 0xff, 0x03, 0xb0, 0x1f, 0xee], // mov dx,0x3ff; mov al,0x1f; out dx,al (before arming)
    ...[0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xfb], // mov dx,0x3fd; 1: in al,dx; test al,1; jz 1b (COM1: a byte received?)
    ...[0xba, 0xff, 0x03, 0xb0, 0x1f, 0xee, 0xf4], // mov dx,0x3ff; mov al,0x1f; out dx,al; hlt
  ]).copy(bios, 0);
  Buffer.from([0xea, 0x00, 0x00, 0x00, 0xf0]).copy(bios, 0xfff0); // jmp far F000:0000
  const file = join(work, "bios.bin");
  writeFileSync(file, bios);
  return file;
}

/** The host script for --host-probe qemu, built with stap -x against an idle QEMU (qtest accelerator: no guest runs). */
async function qemuModule(qemu: string): Promise<string> {
  const { host } = compileRule({ source: `case "E2E-HOST"\nwhen syscall latency > 10s\n`, hostAction: "panic", hostProbe: "qemu" });
  const idle = spawn(qemu, ["-M", "none", "-accel", "qtest", "-display", "none", "-nodefaults", "-S"], { stdio: "ignore" });
  try {
    await sleep(1000);
    return await stapModule(host, { options: `${HOST_STAP_OPTIONS} -x ${idle.pid}`, name: "qt_qemu" });
  } finally {
    idle.kill();
  }
}

describeInstalled("qemu", "test-kernel", "stap", "qemu-debug")("host probe point qemu (the original's uprobe in kvm_arch_post_run), action panic, with kdump", () => {
  let boot: HostBoot;
  let buildMs: number;
  let qemu: string;

  beforeAll(async () => {
    const started = Date.now();
    qemu = execFileSync("sh", [join(repoRoot, "test/e2e/host/programs/build-qemu.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    buildMs = Date.now() - started;
    // The emulated host gets QEMU without its DWARF (the uprobe's offset is in the module): same build id, a fifth of the size.
    const stripped = join(work, "qemu-system-x86_64");
    execFileSync("objcopy", ["--strip-debug", qemu, stripped]);
    const module = await qemuModule(qemu);
    boot = await bootHost({
      name: "qemu-probe",
      crashkernel: "256M",
      timeoutMs: 300_000,
      files: { "lib/qtrip/qt_qemu.ko": module, "lib/qtrip/bios.bin": firmware() },
      entries: withLibraries([{ file: stripped, at: qemu.slice(1) }]),
      scenario: [
        "step qemu",
        "load_crash_kernel",
        "mkfifo /tmp/com1.in /tmp/com1.out",
        `${qemu} -name guest,debug-threads=on -M microvm,x-option-roms=off,rtc=off -accel kvm -m 16 -bios /lib/qtrip/bios.bin -nodefaults -no-user-config -display none -serial pipe:/tmp/com1 -trace serial_write -D /tmp/qemu-trace.log > /tmp/qemu.out 2>&1 &`,
        "QEMU=$!",
        "sleep 3",
        'say "qemu pid $QEMU threads: $(cat /proc/$QEMU/task/*/comm | tr \'\\n\' \',\')"',
        "report qemu < /tmp/qemu.out",
        "report qemu-trace < /tmp/qemu-trace.log",
        // The guest's first write of the byte is done: nothing was armed, nothing happened.
        'say "the host is up after the guest\'s first write, before arming"',
        "step arm",
        "arm -x $QEMU /lib/qtrip/qt_qemu.ko && say armed",
        "step trip",
        "echo go > /tmp/com1.in",
        "sleep 10",
        'say "the host survived"',
      ].join("\n"),
    });
  }, 3_600_000);

  it("builds QEMU with debug information once, cached outside the repo", () => {
    console.log(`build-qemu.sh: ${(buildMs / 1000).toFixed(1)} s (${qemu})`);
    expect(qemu).toMatch(/^\/var\/cache\/qtrip\/qemu-[^/]+-[0-9a-f]{12}\/qemu-system-x86_64$/);
    expect(execFileSync("readelf", ["-S", "-W", qemu], { encoding: "utf8" })).toMatch(/\.debug_info/);
  });

  it("QEMU runs a KVM guest in the emulated host; its writes do nothing before the script is armed", () => {
    const log = boot.step("qemu");
    expect(matching(log, /^@@ qemu pid \d+ threads: .*CPU 0\/KVM/)).toHaveLength(1);
    expect(matching(log, /^@@ qemu: /)).toEqual([]);
    // QEMU's own trace: the guest wrote the byte to COM1's scratch register (offset 7).
    expect(matching(log, /^@@ qemu-trace: /)).toEqual([expect.stringMatching(/serial_write write addr 0x07 val 0x1f$/)]);
    expect(matching(log, /before arming/)).toHaveLength(1);
    expect(matching(log, TRIP_QEMU)).toEqual([]);
  });

  it("arms once the uprobe is registered; the guest's next write crashes the host: banner, then panic, in the dump", () => {
    expect(matching(boot.capture, /^@@ capture kernel up/)).toEqual(["@@ capture kernel up: /proc/vmcore present"]);
    const arm = section(boot.dump, "arm");
    const trip = section(boot.dump, "trip");
    expect(arm && trip, "the dump holds the arm and trip steps").toBeTruthy();
    expect(matching(arm!, /^qtrip: host probe armed: /)).toEqual([expect.stringMatching(/, action panic, probe qemu, only the guest of VMM pid \d+$/)]);
    expect(matching(arm!, /^@@ armed$/)).toHaveLength(1);
    expect(matching(trip!, TRIP_QEMU)).toHaveLength(1);
    expect(matching(trip!, CRASH)).toEqual(["Kernel panic - not syncing: qtrip: case 'E2E-HOST': guest wrote 0x1f to port 0x3ff"]);
    expect(matching(trip!, /survived/)).toEqual([]);
  });
});
