// Stock guests (issue #12): a Debian suite's root file system as that suite
// installs it (.ci/stock: debootstrap, systemtap, gcc, make, linux-headers and
// the suite's kernel; no real System.map, no patched runtime) on a virtio disk,
// booted with that suite's kernel. The initramfs of test/e2e/guest/harness.ts
// loads the disk's modules (virtio, ext4), mounts the disk and runs the user's
// command chrooted into it: the stock system's own sh, stap, gcc, make and
// staprun build and load the module inside the guest.
//
// A cold SystemTap build under TCG takes up to an hour (tracepoint queries,
// autoconf, the module: all compiled in the emulated guest), so the image holds
// SystemTap's cache for the rules of ./rules, made by .ci/stock running the same
// launcher natively in a chroot of the same file system: in the guest the
// header's command runs passes 1 and 2 itself and finds the module in that cache
// (a user's second run). QTRIP_STOCK_COLD=1 empties the cache first: the cold run.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTargets, type Suite, type Target } from "../../support/targets.js";
import { PHASE, runGuest, type GuestRun, type RunningGuest } from "../guest/harness.js";

export const stockDir = process.env.QTRIP_STOCK ?? "/var/cache/qtrip/stock";

/** stock.json, as .ci/stock writes it. */
export interface StockImage {
  suite: Suite;
  key: string;
  kernelRelease: string;
  image: string;
  /** Uncompressed modules that mount the disk, with a modules.dep. */
  bootModules: string;
  bootModuleNames: string[];
  /** The guest scripts whose SystemTap cache the image holds: file name → sha256 of the text. */
  warmed?: Record<string, string>;
  warmSeconds?: number;
}

export type StockEntry = { suite: Suite; target: Target; stock: StockImage; reason?: undefined } | { suite: Suite; target?: undefined; stock?: undefined; reason: string };

export function listStock(): StockEntry[] {
  return listTargets().map((entry) => {
    if (!entry.target) return { suite: entry.suite, reason: entry.reason };
    const file = join(stockDir, entry.suite, "stock.json");
    if (!existsSync(file)) return { suite: entry.suite, reason: `no stock image for ${entry.suite}: ${file} is absent (run: bash .ci/stock ${entry.suite})` };
    return { suite: entry.suite, target: entry.target, stock: JSON.parse(readFileSync(file, "utf8")) as StockImage };
  });
}

/** The launcher command of a guest script's header ("#   sh NAME.guest.sh -G pid=VALUE"), as the user types it. */
export function headerLauncherCommand(script: string): string {
  const line = script.split("\n").find((l) => /^#\s+sh\s+\S+\.guest\.sh\b/.test(l));
  if (!line) throw new Error("the guest script's header names no launcher command");
  return line.replace(/^#\s+/, "");
}

export interface StockSession {
  /** Files for the user's directory in the guest (/root/rule), name → text. */
  files: Record<string, string>;
  /** Shell lines run in the initramfs after the stock root is mounted at /newroot; `in_stock CMD` runs CMD there, in /root/rule. */
  session: string;
  /** More disks after the stock root (vda): vdb, vdc… */
  drives?: string[];
  /** What the host does while the guest runs (pause it, as harness.ts's control). */
  control?: (guest: RunningGuest) => Promise<void>;
  timeoutMs?: number;
}

/** Boots the suite's kernel on its stock image and runs the session. */
export async function bootStock(entry: Extract<StockEntry, { target: Target }>, spec: StockSession): Promise<GuestRun> {
  const { target: t, stock } = entry;
  const dir = mkdtempSync(join(tmpdir(), "qtrip-stock-"));
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(spec.files)) {
    writeFileSync(join(dir, name), text);
    files[`/stock/${name}`] = join(dir, name);
  }
  try {
    return await runGuest({
      machine: { kernel: { release: t.kernelRelease, image: t.kernelImage, modules: stock.bootModules }, staprunRoot: t.root },
      kernelModules: stock.bootModuleNames,
      drives: [`file=${stock.image},if=virtio,format=raw,snapshot=on`, ...(spec.drives ?? [])],
      ...(spec.control ? { control: spec.control } : {}),
      files,
      // gcc and stap in the guest want room.
      memoryMb: 2048,
      session: `${MOUNT_STOCK}\n${spec.session}\n${UNMOUNT_STOCK}`,
      timeoutMs: spec.timeoutMs ?? 600_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const IN_STOCK = "chroot /newroot /usr/bin/env -i HOME=/root LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh -c";

const MOUNT_STOCK = `mkdir -p /newroot
mount -t ext4 /dev/vda /newroot || { echo "qtrip-e2e: cannot mount the stock root"; poweroff -f; }
for d in proc sys dev; do mount --bind /$d /newroot/$d; done
mount -t debugfs debugfs /newroot/sys/kernel/debug
mkdir -p /newroot/root/rule && cp /stock/* /newroot/root/rule/
# As root logs in: a clean environment, the stock PATH. chroot, env and sh -c "… exec" each exec the next.
in_stock() { ${IN_STOCK} "cd /root/rule && $1"; }`;

const UNMOUNT_STOCK = `sync
umount /newroot/sys/kernel/debug /newroot/proc /newroot/sys /newroot/dev 2>/dev/null
umount /newroot || mount -o remount,ro /newroot`;

/**
 * Session lines: start COMMAND in the stock root in the background (its output
 * in /stap.log, echoed at the end; not through a shell function, whose subshell
 * would hold $!: every step execs the next, so $! is the command's own pid, and
 * stap's once the launcher has exec'd it), wait until the kernel log says "qtrip: armed",
 * then mark "armed". If the command exits first, its output is shown and the
 * guest powers off (the test then fails on the missing marker).
 */
export function startAndAwaitArmed(command: string): string {
  if (/["`\\]/.test(command)) throw new Error(`cannot run in the guest as given: ${command}`);
  return `started=$(date +%s)
${IN_STOCK} "cd /root/rule && exec ${command}" > /stap.log 2>&1 &
stap_pid=$!
until dmesg | grep -q 'qtrip: armed'; do
  kill -0 $stap_pid 2>/dev/null || { echo "qtrip-e2e: the command exited before arming:"; cat /stap.log; ${UNMOUNT_STOCK.replace(/\n/g, "; ")}; poweroff -f; }
  sleep 1
done
echo "qtrip-e2e: armed $(( $(date +%s) - started ))s after the command started"
mark ${PHASE.armed}`;
}

/** Session lines: stop the command started by startAndAwaitArmed (SIGTERM: stap unloads its module; a background job of a script ignores SIGINT) and show its output. */
export const STOP_COMMAND = `echo "qtrip-e2e: stopping $(cat /proc/$stap_pid/comm)"
kill -TERM $stap_pid; ( sleep 120; kill -KILL $stap_pid 2>/dev/null ) &
wait $stap_pid; echo "qtrip-e2e: command exited with status $?"
echo "qtrip-e2e: command output:"; cat /stap.log`;

/** The in-guest build time the console reports. */
export function armedAfterSeconds(run: GuestRun): number | undefined {
  const m = /qtrip-e2e: armed (\d+)s after the command started/.exec(run.console);
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether the image's SystemTap cache was made (by .ci/stock, natively, from the same
 * file system) for exactly this guest script: stock.json names each warmed script's sha256.
 */
export function warmedFor(stock: StockImage, scriptName: string, script: string): boolean {
  return stock.warmed?.[scriptName] === createHash("sha256").update(script).digest("hex");
}

/** Session lines that empty the guest's SystemTap cache first (on the snapshot): the user's first, cold run. */
export const COLD_CACHE = "rm -rf /newroot/root/.systemtap /newroot/root/.cache/qtrip /newroot/var/cache/qtrip-guest";
