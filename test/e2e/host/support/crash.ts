// One crash scenario in the emulated hypervisor, shared by the kdump tests and
// test/bench/host.mjs. In one boot: the crash script must refuse to arm while no
// crash kernel is loaded (and a guest's trip then must not crash the host); once
// `kexec -p` has loaded one, it arms, a guest writes the channel byte, the host
// crashes into the capture kernel, and that kernel reads the dump.
import type { HostAction, HostProbe } from "../../../../src/codegen/stap/index.js";
import type { Target } from "../../../support/targets.js";
import { targetMachine } from "../../support/machine.js";
import { bootHost, hostModule, kvmRuns, section, TRIP, type HostBoot } from "./emulated-host.js";

/** The guest's KVM_RUN that writes the channel byte (after two warm-up exits). */
export const TRIP_RUN = 3;

const refusal = [
  "step refuse",
  // The guest is chosen (-x): what is missing is the crash kernel.
  "vmm refused-trip outb:0x3ff:0x1f",
  "staprun -x $VMM /lib/qtrip/qt_crash.ko > /tmp/refused.out 2>&1 &",
  "refused=$!",
  "finish $refused 15",
  'say "loaded=$(grep -c "^qt_crash " /proc/modules)"',
  "report staprun < /tmp/refused.out",
  // Whatever staprun said, a trip now must leave the host up (a crash here has no dump).
  "step refused-trip",
  "go refused-trip; wait $VMM",
  'say "the host survived the trip"',
  "kill $refused 2>/dev/null; wait $refused",
];

/** Armed with a crash kernel that is unloaded before the trip (issue 23, item 4): the trip must not crash the host. */
const unloaded = [
  "step unloaded",
  "vmm unloaded outb:0x3ff:0x1f",
  "arm -x $VMM /lib/qtrip/qt_crash.ko && say armed",
  'kexec -p -u; say "kexec -p -u rc=$? kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"',
  "go unloaded; wait $VMM",
  'say "the host survived the trip"',
  "finish $STAPRUN 15; report staprun < /tmp/staprun.out",
  "load_crash_kernel",
];

/** Boots the crash scenario; `refusal: false` skips the refusal steps (for the benchmark); `target`: on that suite's kernel, built by its stap. */
export async function crashBoot(
  action: HostAction,
  probe: HostProbe,
  opts: { name?: string; refusal?: boolean; target?: Target } = {},
): Promise<HostBoot> {
  const module = await hostModule("qt_crash", { action, probe, ...(opts.target ? { target: opts.target } : {}) });
  return bootHost({
    ...(opts.target ? { machine: targetMachine(opts.target) } : {}),
    name: opts.name ?? `crash-${action}-${probe}`,
    files: { "lib/qtrip/qt_crash.ko": module },
    crashkernel: "256M", // 128M is the least that worked; 96M deadlocks the capture kernel
    timeoutMs: 300_000,
    scenario: [
      ...(opts.refusal === false ? [] : refusal),
      "step kexec",
      "load_crash_kernel",
      ...(opts.refusal === false ? [] : unloaded),
      "step arm",
      // Two writes to another port first: the tripping KVM_RUN is a warm one.
      "vmm trip outb:0x3fe:0x00 outb:0x3fe:0x01 outb:0x3ff:0x1f outb:0x3fe:0x02",
      "arm -x $VMM /lib/qtrip/qt_crash.ko && say armed",
      "step trip",
      "go trip; wait $VMM",
      'say "the host survived the trip"',
    ].join("\n"),
  });
}

/** The crash itself, after the banner: the panic, or the oops (int13's nests into the stack guard page). */
export const CRASH = /^(Kernel panic - not syncing|BUG: |Oops|general protection fault|traps: |double fault)/;

export interface TripTiming {
  /** From the guest's KVM_RUN entry (its /dev/kmsg line) to the banner, in ms (kernel log clock). */
  toBannerMs: number;
  /** From the KVM_RUN entry to the first crash record, in ms. */
  toCrashMs?: number;
  /** The crash record. */
  crash?: string;
  /** Whether KVM_RUN returned to kvmguest (it must not, for a crash). */
  returned: boolean;
  /** Wall-clock ms from the banner's arrival on the console to the capture kernel's scenario starting. */
  toCaptureWallMs?: number;
}

/**
 * Timings of the "trip" step, read from the dump when there is one: the console
 * may miss the end (an oops in a double fault is printed to the log buffer only).
 */
export function tripTiming(boot: HostBoot): TripTiming {
  const log = section(boot.dump, "trip") ?? boot.step("trip");
  const run = kvmRuns(log, "trip").find((r) => r.n === TRIP_RUN);
  const banner = log.find((r) => TRIP.test(r.text));
  if (!run || !banner) throw new Error(`no tripping KVM_RUN or no banner:\n${log.map((r) => r.text).join("\n")}`);
  const crash = log.find((r) => r.t >= banner.t && CRASH.test(r.text));
  const arrival = (pattern: RegExp) => boot.arrivals.find((a) => pattern.test(a.line))?.ms;
  const bannerWall = arrival(/\] qtrip: TRIP case /);
  const captureWall = arrival(/\] @@ capture kernel up/);
  return {
    toBannerMs: (banner.t - run.enter) * 1000,
    ...(crash ? { toCrashMs: (crash.t - run.enter) * 1000, crash: crash.text } : {}),
    returned: run.returned !== undefined,
    ...(bannerWall && captureWall ? { toCaptureWallMs: captureWall - bannerWall } : {}),
  };
}
