// A kprobe rule in a stock guest of each Debian suite (issue #12): the header's launcher command,
// as written, makes the kernel's symbol table from the guest's own /proc/kallsyms (the real
// addresses, moved by KASLR on every boot) and the guest's own stap builds, loads and trips.
//
// A cold build under TCG takes about an hour, so the guest's SystemTap cache is warmed natively
// first, as the lead's stock tests do: the launcher runs in a chroot of the same stock root
// (test/support/stock-root.ts: its /proc/kallsyms a file made from the real System.map, `uname`
// printing the guest's release) with `-p4 -r KVER`; that root, without those two, becomes the
// guest's disk (mke2fs -d, kept by content). The guest's stap must then find the module the
// chroot built: the launcher's sysroot has a fixed path and its System.map names only, so the
// hash is the same whatever the addresses. A miss would build cold and run out of time.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../../src/compile.js";
import { kallsymsOf, replaceFile, runInRoot, stockRoot, stockRootsDir } from "../../support/stock-root.js";
import type { Target } from "../../support/targets.js";
import { atThreshold, expectTrip } from "../guest/expect-trip.js";
import { markerAt, type GuestRun } from "../guest/harness.js";
import { armedAfterSeconds, bootStock, headerLauncherCommand, listStock, scriptBody, startAndAwaitArmed, STOP_COMMAND, type StockImage } from "./stock-guest.js";

const { outputs } = compileSource('param pid: int\nwhen function "hrtimer_nanosleep" latency > 200ms on pid $pid as "slow sleep"\n', { fileName: "sleep.qt" });
if (!outputs) throw new Error("the rule does not compile");
const KPROBE = outputs;
const COMMAND = headerLauncherCommand(KPROBE.guest);

/**
 * Opt-in: QTRIP_STOCK_KPROBE=bookworm (or all, or a list). NOT YET SEEN PASSING: on 2026-12-01
 * two boots of the bookworm image (the second with the /proc/self/exe link, so the chroot's
 * hash logs name /usr/bin/stap as the guest's would) had not armed after 900 s under TCG on a
 * loaded machine; whether the guest's stap missed the chroot's cache or was only slow is not
 * known yet (the launcher's output is shown only at the session's end).
 */
const SUITES = (process.env.QTRIP_STOCK_KPROBE ?? "").split(",").filter(Boolean);

/**
 * The stock root with a SystemTap cache warmed for this rule, as a disk image: made once per
 * content (the stock image, the script's body, the launcher, the command), then reused.
 */
function warmedDisk(t: Target, stock: StockImage): { image: string; made: Promise<void> | undefined } {
  const key = createHash("sha256").update(`kprobe warm 2\n${stock.key}\n${t.key}\n`).update([scriptBody(KPROBE.guest), KPROBE.launcher, COMMAND].join("\0")).digest("hex").slice(0, 16);
  const image = join(stockRootsDir, `${t.suite}-kprobe-${key}.img`);
  if (existsSync(image)) return { image, made: undefined };
  return { image, made: makeWarmDisk(t, image) };
}

async function makeWarmDisk(t: Target, image: string): Promise<void> {
  const root = stockRoot(t, "kprobe");
  replaceFile(join(root, "proc/kallsyms"), kallsymsOf(t, 0x1a400000n));
  replaceFile(join(root, "root/rule", KPROBE.guestName), KPROBE.guest);
  replaceFile(join(root, "root/rule", KPROBE.launcherName), KPROBE.launcher);
  // The header's command as the guest will run it, plus what the warm-up needs: pass 4, the guest's release.
  const warm = await runInRoot(root, ["sh", "-c", `cd /root/rule && ${COMMAND.replace("VALUE", "1")} -p4 -r ${t.kernelRelease}`], 1_800_000);
  if (warm.status !== 0) throw new Error(`the warm-up build failed (${warm.seconds} s):\n${warm.stderr}`);
  console.log(`${t.suite}: warm-up build in the chroot, ${warm.seconds.toFixed(0)} s: ${warm.stdout.trim()}`);
  // The disk: the root without what only a chroot needs (the guest has its own /proc, its own uname).
  const stage = `${image}.stage`;
  rmSync(stage, { recursive: true, force: true });
  execFileSync("cp", ["-al", root, stage]);
  for (const extra of ["proc/kallsyms", "proc/self", "usr/local/bin/uname", "root/rule"]) rmSync(join(stage, extra), { recursive: true, force: true });
  const mib = Number(execFileSync("du", ["-sm", stage], { encoding: "utf8" }).split("\t")[0]) + 1024;
  execFileSync("mke2fs", ["-q", "-t", "ext4", "-d", stage, "-L", "qtrip-stock", "-E", "lazy_itable_init=0,lazy_journal_init=0", `${image}.tmp`, `${mib}M`]);
  rmSync(stage, { recursive: true, force: true });
  renameSync(`${image}.tmp`, image);
}

for (const entry of listStock()) {
  const ready = entry.target ? entry : undefined;
  const name = ready ? `Debian ${ready.target.debianVersion} (${ready.target.kernelRelease}, SystemTap ${ready.target.stapVersion})` : `${entry.suite}: ${entry.reason}`;
  const asked = SUITES.includes("all") || SUITES.includes(entry.suite);
  const why = asked ? "" : ` (opt-in: QTRIP_STOCK_KPROBE=${entry.suite} runs it)`;
  describe.skipIf(!ready || !asked)(`${name}: a kprobe rule in a stock guest${why}`, () => {
    test("the header's command makes the symbol table from the guest's /proc/kallsyms, finds the warm module and trips at the threshold, not before", { timeout: 2_400_000 }, async () => {
      const { target: t, stock } = ready!;
      const disk = warmedDisk(t, stock);
      await disk.made;
      expect(COMMAND).toBe(`sh ${KPROBE.launcherName} -G pid=VALUE`);
      // Calls 1-3 sleep 100 ms (no trip), call 4 one second: it trips 200 ms in.
      const run: GuestRun = await bootStock(ready!, {
        files: { [KPROBE.guestName]: KPROBE.guest, [KPROBE.launcherName]: KPROBE.launcher },
        drive: `file=${disk.image},if=virtio,format=raw,snapshot=on`,
        session: `echo "qtrip-e2e: kallsyms: $(grep -c ' [tT] ' /proc/kallsyms) functions, hrtimer_nanosleep at $(grep ' hrtimer_nanosleep$' /proc/kallsyms | cut -c1-16)"
                  spawn t nanosleep:100x3 nanosleep:1000
                  ${startAndAwaitArmed(COMMAND.replace("VALUE", "$pid_t"))}
                  run t
                  ${STOP_COMMAND}`,
        timeoutMs: 900_000,
      });
      const sysroot = `/root/.cache/qtrip/sysroot-${t.kernelRelease}`;
      expect(run.console).toContain(`using the function names in /proc/kallsyms, written to ${sysroot}/boot/System.map-${t.kernelRelease}`);
      expect(run.console).toMatch(/qtrip-e2e: kallsyms: \d{5,} functions, hrtimer_nanosleep at [0-9a-f]{16}/);
      markerAt(run, 0xf2); // the session reached its end
      expectTrip(run, "slow sleep", atThreshold(4));
      console.log(`${name}: kprobe rule in the stock guest: armed ${armedAfterSeconds(run)} s after the header's command started`);
    });
  });
}
