// Kprobe rules on a stock Debian install of every suite (issue #12): the guest launcher makes
// the kernel's symbol table from /proc/kallsyms (Debian's /boot/System.map is a one-line stub)
// in a private sysroot, and the suite's own stap builds with it (-p4, nothing loaded). Run in a
// chroot of a stock-like root (test/support/stock-root.ts) exactly as the lead's warm-up runs
// it before the root becomes a guest's disk: `sh rule.guest.sh -p4 -r KVER`, with a
// /proc/kallsyms made from the real System.map. The module stap builds must be the one a later
// boot finds in its cache, whatever KASLR did to the addresses: the launcher writes names only.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { sampledOut, taken } from "../e2e/support/sample.js";
import { compileSource } from "../../src/compile.js";
import { kallsymsOf, replaceFile, runInRoot, stockRoot, type RootRun } from "../support/stock-root.js";
import { headerOptions, listTargets, type Target } from "../support/targets.js";

const RULES = {
  "a kernel function": 'when function "hrtimer_nanosleep" latency > 200ms as "slow sleep"',
  "event nmi_backtrace": "when event nmi_backtrace",
  "a module's function by its plain name": 'when function "ext4_sync_file" latency > 200ms as "slow fsync"',
} as const;

function compiled(rule: string, base: string) {
  const { outputs } = compileSource(`${rule}\n`, { fileName: `${base}.qt` });
  if (!outputs) throw new Error(`${rule} does not compile`);
  return outputs;
}

/** A KASLR-like offset: a multiple of 2 MiB under 1 GiB, different every run. */
function kaslrShift(): bigint {
  return BigInt(1 + Math.floor(Math.random() * 510)) * 0x200000n;
}

/** Writes the rule's script and launcher into ROOT/root/r and runs the launcher as the warm-up does. */
async function launch(root: string, t: Target, rule: string, base: string, extra: string[] = []): Promise<RootRun> {
  const out = compiled(rule, base);
  replaceFile(join(root, "root/r", out.guestName), out.guest);
  replaceFile(join(root, "root/r", out.launcherName), out.launcher, 0o755);
  return runInRoot(root, ["sh", `/root/r/${out.launcherName}`, "-p4", "-r", t.kernelRelease, ...extra], 900_000);
}

/** The module stap printed (pass 4), as the chroot sees it. */
function moduleOf(run: RootRun): string | undefined {
  return /^(\/\S+\.ko)$/m.exec(run.stdout)?.[1];
}

const MAP_LINE = /^0{16} [tT] \S+$/;

// One suite a run (each stock root's first build fills its own cold SystemTap cache: 2-3 min), rotating with the commit.
const TARGETS = listTargets();
for (const [i, entry] of TARGETS.entries()) {
  const t = entry.target;
  const sampled = taken("kallsyms", i, TARGETS.length);
  const name = t ? `Debian ${t.debianVersion} (${t.kernelRelease}, SystemTap ${t.stapVersion})` : `${entry.suite}: ${entry.reason}`;
  describe.skipIf(!t || !sampled)(`${name}${sampled ? "" : ` (${sampledOut("kallsyms")})`}: kprobe rules on a stock install, symbols from /proc/kallsyms`, () => {
    const sysroot = () => `/var/cache/qtrip-guest/sysroot-${t!.kernelRelease}`;
    const map = () => `${sysroot()}/boot/System.map-${t!.kernelRelease}`;

    test("the stock root is stock: /boot's System.map is Debian's stub, the build tree has none", () => {
      const root = stockRoot(t!, "kallsyms");
      expect(readFileSync(join(root, `boot/System.map-${t!.kernelRelease}`), "utf8").split("\n").length).toBeLessThan(10);
      expect(existsSync(join(root, t!.systemMap))).toBe(false);
      expect(existsSync(join(root, "usr/lib/debug/boot"))).toBe(false);
    });

    test("without the launcher's sysroot, the suite's stap finds no kernel function on the stub", async () => {
      const root = stockRoot(t!, "kallsyms");
      replaceFile(join(root, "root/r/control.stp"), 'probe kprobe.function("hrtimer_nanosleep") { }\n');
      const run = await runInRoot(root, ["stap", "-p2", "-r", t!.kernelRelease, "/root/r/control.stp"], 120_000);
      expect(run.stderr).toMatch(/no match/);
      expect(run.status).not.toBe(0);
    });

    test.each(Object.entries(RULES))("%s: the launcher builds it (-p4), and a later boot with other addresses hits the same cached module", async (what, rule) => {
      const root = stockRoot(t!, "kallsyms");
      const base = what.replace(/\W+/g, "-");
      replaceFile(join(root, "proc/kallsyms"), kallsymsOf(t!, kaslrShift()));
      const first = await launch(root, t!, rule, base);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toContain(`using the function names in /proc/kallsyms, written to ${map()} (stap --sysroot ${sysroot()})`);
      expect(first.stderr).toMatch(new RegExp(`qtrip: running: stap .*--sysroot=${sysroot().replace(/[+.]/g, "\\$&")} `));
      const module = moduleOf(first);
      expect(module, first.stdout + first.stderr).toBeDefined();

      // Names only: no address, no module symbol (their fourth field would break stap's reader).
      const table = readFileSync(join(root, map()), "utf8").trimEnd().split("\n");
      expect(table.length).toBeGreaterThan(10_000);
      expect(table.filter((l) => !MAP_LINE.test(l))).toEqual([]);
      expect(table).toContain("0000000000000000 T hrtimer_nanosleep");

      // Another boot: other addresses (or none, kernel.kptr_restrict=2): the same module, from the cache.
      for (const shift of [kaslrShift(), "hidden" as const]) {
        replaceFile(join(root, "proc/kallsyms"), kallsymsOf(t!, shift));
        const again = await launch(root, t!, rule, base, ["-v"]);
        expect(again.status, again.stderr).toBe(0);
        expect(again.stderr).toContain(`Pass 4: using cached ${module}`);
        expect(moduleOf(again)).toBe(module);
      }
    }, 900_000);

    test("where the table cannot be made, the launcher says so before stap runs", async () => {
      const root = stockRoot(t!, "kallsyms");
      const rule = RULES["a kernel function"];
      rmSync(join(root, "proc/kallsyms"), { force: true });
      const absent = await launch(root, t!, rule, "refused");
      expect(absent.stderr).toContain(`qtrip: this rule's kprobes need kernel ${t!.kernelRelease}'s symbol table, and /proc/kallsyms is not readable`);
      expect(absent.status).toBe(1);
      // A kernel built without CONFIG_KALLSYMS_ALL still lists every function; a list this short is not a symbol table.
      replaceFile(join(root, "proc/kallsyms"), kallsymsOf(t!, 0n).split("\n").filter((l) => / [tT] /.test(l)).slice(0, 500).join("\n"));
      const short = await launch(root, t!, rule, "refused");
      expect(short.stderr).toContain("/proc/kallsyms lists under 1000 functions");
      expect(short.status).toBe(1);
      for (const run of [absent, short]) expect(run.stderr).not.toContain("qtrip: running: stap");
    });

    test("the header's options are the launcher's: it adds --sysroot only for kprobe rules", () => {
      const kprobe = compiled(RULES["a kernel function"], "k");
      const tracepoint = compiled("when syscall read latency > 200ms on pid 1", "tp");
      expect(kprobe.launcher).toContain("--sysroot=");
      expect(tracepoint.launcher).not.toContain("sysroot");
      expect(headerOptions(kprobe.guest)).not.toContain("--sysroot");
    });
  });
}
