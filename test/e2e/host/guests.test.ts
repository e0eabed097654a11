// Several CPUs, two guests, several vCPUs each, in the emulated KVM hypervisor:
// the host script limited to one guest (stap -x VMM_PID) trips for that guest's
// vCPU threads only; the other guest's writes of the same byte do nothing; and
// several vCPUs writing at once give one banner and one crash. Everything
// asserted is in the emulated host's kernel log or in the dump.
import { beforeAll, expect, it } from "vitest";
import { CRASH } from "./support/crash.js";
import { bootHost, hostModule, KERNEL_PROBES, kvmRuns, matching, section, TRIP, type HostBoot, type LogRecord } from "./support/emulated-host.js";
import { describeInstalled } from "../../support/installed.js";

/** The emulated host's CPUs, and each guest's vCPUs. */
const CPUS = 4;
const VCPUS = 3;

/** The vCPU labels of a kvmguest run with --vcpus (NAME/vK). */
const vcpus = (name: string) => Array.from({ length: VCPUS }, (_, k) => `${name}/v${k}`);

function pidOf(log: LogRecord[], name: string): number {
  return Number(new RegExp(`^@@ vmm ${name} pid (\\d+) threads `).exec(matching(log, new RegExp(`^@@ vmm ${name} `))[0]!)![1]);
}

/** Both guests set up and waiting; the script armed for the target; then both write 0x1f from every vCPU at once. */
const twoGuests = (module: string) => [
  `vmm target --vcpus ${VCPUS} outb:0x3ff:0x1f outb:0x3fe:0x00`,
  "target=$VMM",
  `vmm bystander --vcpus ${VCPUS} outb:0x3ff:0x1f outb:0x3fe:0x00`,
  "bystander=$VMM",
  `arm -x $target /lib/qtrip/${module}.ko`,
];

describeInstalled("qemu", "test-kernel", "stap").each(KERNEL_PROBES)(`two guests of ${VCPUS} vCPUs on ${CPUS} host CPUs, probe point %s, action log`, (probe) => {
  let boot: HostBoot;

  beforeAll(async () => {
    boot = await bootHost({
      name: `guests-${probe}`,
      smp: CPUS,
      files: { "lib/qtrip/qt_chosen.ko": await hostModule("qt_chosen", { action: "log", probe }) },
      scenario: ["step guests", 'say "cpus $(grep -c ^processor /proc/cpuinfo)"', ...twoGuests("qt_chosen"), "go bystander; go target", "wait $target $bystander", "disarm"].join("\n"),
    });
  });

  it(`runs ${CPUS} CPUs and two VMM processes of ${VCPUS} vCPU threads each`, () => {
    const log = boot.step("guests");
    expect(matching(log, /^@@ cpus /)).toEqual([`@@ cpus ${CPUS}`]);
    for (const name of ["target", "bystander"]) {
      expect(matching(log, new RegExp(`^@@ vmm ${name} `))[0]!.split("threads ")[1]!.trim().split(" ")).toHaveLength(VCPUS);
    }
  });

  it("trips for every vCPU of the chosen guest and never for the other guest, whose writes reached KVM too", () => {
    const log = boot.step("guests");
    const target = pidOf(log, "target");
    for (const label of [...vcpus("target"), ...vcpus("bystander")]) {
      expect(kvmRuns(log, label).map((r) => r.returned?.exit)).toEqual(["exit io out port 0x3ff size 1 count 1 data 1f", "exit io out port 0x3fe size 1 count 1 data 00", "exit hlt: done"]);
    }
    const banners = matching(log, TRIP);
    expect(banners).toHaveLength(VCPUS); // action log: one banner per matching write
    for (const b of banners) expect(b).toContain(`of VMM 'kvmguest' (pid ${target}) wrote`);
    // Each banner names a different vCPU thread of the target.
    expect(new Set(banners.map((b) => /\(tid (\d+)\)/.exec(b)![1])).size).toBe(VCPUS);
  });
});

describeInstalled("qemu", "test-kernel", "stap")(`simultaneous writes from ${VCPUS} vCPUs, action panic, probe point kvm_fast_pio, with kdump`, () => {
  let boot: HostBoot;

  beforeAll(async () => {
    boot = await bootHost({
      name: "guests-crash",
      smp: CPUS,
      crashkernel: "256M",
      timeoutMs: 300_000,
      files: { "lib/qtrip/qt_crash.ko": await hostModule("qt_crash", { action: "panic", probe: "kvm_fast_pio" }) },
      scenario: [
        "step arm",
        "load_crash_kernel",
        ...twoGuests("qt_crash"),
        "step bystander",
        "go bystander; wait $bystander",
        'say "the host survived the bystander"',
        "step trip",
        "go target; wait $target",
        'say "the host survived the trip"',
      ].join("\n"),
    });
  });

  it("the other guest's writes of the byte, from every vCPU, do nothing", () => {
    const log = boot.step("bystander");
    for (const label of vcpus("bystander")) expect(kvmRuns(log, label).at(-1)?.returned?.exit).toBe("exit hlt: done");
    expect(matching(log, TRIP)).toEqual([]);
    expect(matching(log, /survived the bystander/)).toHaveLength(1);
  });

  it("the chosen guest's vCPUs writing at once give one banner and one panic, in the dump", () => {
    const trip = section(boot.dump, "trip");
    expect(trip, "the dump holds the trip step").toBeDefined();
    const target = pidOf(boot.step("arm"), "target");
    expect(vcpus("target").filter((label) => kvmRuns(trip!, label).length > 0)).toHaveLength(VCPUS); // every vCPU entered KVM_RUN
    expect(matching(trip!, TRIP)).toEqual([expect.stringMatching(new RegExp(`of VMM 'kvmguest' \\(pid ${target}\\) wrote 0x1f to port 0x3ff; calling panic\\(\\) \\(kdump\\)$`))]);
    expect(matching(trip!, CRASH)).toEqual(["Kernel panic - not syncing: qtrip: case 'E2E-HOST': guest wrote 0x1f to port 0x3ff"]);
    expect(matching(trip!, /survived/)).toEqual([]);
  });
});
