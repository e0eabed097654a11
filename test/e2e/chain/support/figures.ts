// The chain's figures, from one boot's logs: the emulated host's kernel log
// clock for the trip, the wall clock here for the capture kernel's boot (the
// crashed and the capture kernel have different clocks), and makedumpfile's own
// report of each dump. Under TCG every figure is inflated, and the machine is shared.
import { matching, section, type LogRecord } from "../../host/support/emulated-host.js";
import type { ChainBoot } from "./chain.js";
import type { DumpLevel } from "./dump.js";
import { DUMP_LEVELS } from "./dump.js";

export interface DumpWritten {
  rc: number;
  bytes: number;
  /** makedumpfile's run time in the capture kernel. */
  ms: number;
}

/** What the capture kernel said of the dump of a level. */
export function dumpWritten(boot: ChainBoot, level: DumpLevel): DumpWritten | undefined {
  const line = matching(boot.capture, new RegExp(`^@@ makedumpfile -c -d ${level} `))[0];
  const m = line && /rc=(\d+) bytes=(\d+) ms=(\d+)$/.exec(line);
  return m ? { rc: Number(m[1]), bytes: Number(m[2]), ms: Number(m[3]) } : undefined;
}

export interface ChainFigures {
  /** From the guest's "go" line reaching the host (it starts its 5 s nanosleep right after) to the banner, host clock. */
  goToBannerMs?: number;
  /** From the banner to the first crash record (the panic, or int13's oops), host clock, read from the dump's log. */
  bannerToCrashMs?: number;
  /** Wall clock here, from the banner's arrival on the console to the capture kernel's init starting. */
  crashToCaptureWallMs?: number;
  /** The capture kernel's own uptime when its init started. */
  captureUptimeMs?: number;
  dumps: Partial<Record<DumpLevel, DumpWritten>>;
}

const CRASH = /^(Kernel panic - not syncing|BUG: |Oops|general protection fault|traps: |double fault)/;

export function chainFigures(boot: ChainBoot): ChainFigures {
  const log: LogRecord[] = section(boot.dump, "trip") ?? section(boot.host, "trip") ?? [];
  const go = log.find((r) => r.text === "@@ l2: qtrip-l2: go");
  const banner = log.find((r) => r.text.startsWith("qtrip: TRIP case "));
  const crash = banner && log.find((r) => r.t >= banner.t && CRASH.test(r.text));
  const arrival = (pattern: RegExp) => boot.arrivals.find((a) => pattern.test(a.line))?.ms;
  const bannerWall = arrival(/\] qtrip: TRIP case /);
  const captureWall = arrival(/\] @@ capture kernel up/);
  const uptime = matching(boot.capture, /^@@ capture kernel up: /)[0]?.match(/uptime_ms=(\d+)/)?.[1];
  const dumps: ChainFigures["dumps"] = {};
  for (const level of DUMP_LEVELS) {
    const written = dumpWritten(boot, level);
    if (written) dumps[level] = written;
  }
  const ms = (from: LogRecord, to: LogRecord) => Math.round((to.t - from.t) * 1000);
  return {
    ...(go && banner ? { goToBannerMs: ms(go, banner) } : {}),
    ...(banner && crash ? { bannerToCrashMs: ms(banner, crash) } : {}),
    ...(bannerWall && captureWall ? { crashToCaptureWallMs: captureWall - bannerWall } : {}),
    ...(uptime ? { captureUptimeMs: Number(uptime) } : {}),
    dumps,
  };
}
