// The guest launcher runs as root and builds a kernel module from what its cache holds (a
// patched SystemTap runtime, a sysroot): that cache must be root's alone (issue 23, item 3).
// Run natively in a chroot of Debian 12's stock-like root (the suite whose SystemTap needs the
// patched runtime copy), as `sudo -E` or a sudo that keeps HOME would run it: HOME and
// XDG_CACHE_HOME naming a normal user's directory. Then with a planted cache: owned by that
// user, writable by others, a symbolic link to the user's directory.
// stap runs with -p1 here (parse only): what is checked is where the launcher points it; the
// builds from that cache are test/targets/launcher-sysroot.test.ts's.
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { kallsymsOf, replaceFile, runInRoot, stockRoot, type RootRun } from "../support/stock-root.js";
import { listTargets, type Target } from "../support/targets.js";

const CACHE = "/var/cache/qtrip-guest";
const USER = 1000;
const t: Target | undefined = listTargets().find((e) => e.suite === "bookworm")?.target;

/** Runs the launcher of a kprobe rule (runtime copy and sysroot both) as sudo -E would: the user's HOME and cache. */
async function launch(root: string): Promise<RootRun> {
  const { outputs } = compileSource('when function "hrtimer_nanosleep" latency > 200ms\n', { fileName: "c.qt" });
  replaceFile(join(root, "root/r", outputs!.guestName), outputs!.guest);
  replaceFile(join(root, "root/r", outputs!.launcherName), outputs!.launcher, 0o755);
  return runInRoot(root, ["HOME=/home/u", "XDG_CACHE_HOME=/home/u/.cache", "sh", `/root/r/${outputs!.launcherName}`, "-p1", "-r", t!.kernelRelease], 600_000);
}

/** The stap options the launcher ran with: -R DIR and --sysroot=DIR. */
function paths(run: RootRun): string[] {
  const line = /^qtrip: running: stap (.*)$/m.exec(run.stderr)?.[1] ?? "";
  return [...line.matchAll(/(?:-R |--sysroot=)(\S+)/g)].map((m) => m[1]!);
}

describe.skipIf(!t)("the guest launcher's cache, as root, with a normal user's HOME (Debian 12)", () => {
  let root: string;

  beforeAll(() => {
    root = stockRoot(t!, "cache");
    replaceFile(join(root, "proc/kallsyms"), kallsymsOf(t!, 0n));
    mkdirSync(join(root, "home/u/.cache"), { recursive: true });
    chownSync(join(root, "home/u"), USER, USER);
    chownSync(join(root, "home/u/.cache"), USER, USER);
  });

  const reset = () => rmSync(join(root, CACHE.slice(1)), { recursive: true, force: true });

  test("it builds from a directory of root's that no one else can write, never from the user's cache", async () => {
    reset();
    const run = await launch(root);
    expect(run.status, run.stderr).toBe(0);
    const used = paths(run);
    expect([...used].sort()).toEqual([expect.stringMatching(new RegExp(`^${CACHE}/stap-runtime-[0-9a-f]{16}$`)), `${CACHE}/sysroot-${t!.kernelRelease}`]);
    // Every directory from / down to what stap reads: root's, not writable by group or others.
    for (const path of used) {
      for (let dir = path; dir !== "/"; dir = dir.slice(0, dir.lastIndexOf("/")) || "/") {
        const st = lstatSync(join(root, dir));
        expect([dir, st.isDirectory(), st.uid, st.mode & 0o022]).toEqual([dir, true, 0, 0]);
      }
    }
  }, 600_000);

  const planted: [string, () => void, RegExp][] = [
    ["owned by the user", () => (mkdirSync(join(root, CACHE.slice(1))), chownSync(join(root, CACHE.slice(1)), USER, USER)), /is owned by uid 1000, not root/],
    ["writable by others", () => (mkdirSync(join(root, CACHE.slice(1))), chmodSync(join(root, CACHE.slice(1)), 0o777)), /is writable by others \(mode 777\)/],
    ["a symbolic link to the user's directory", () => symlinkSync("/home/u/.cache", join(root, CACHE.slice(1))), /is a symbolic link \(to \/home\/u\/\.cache\)/],
  ];
  test.each(planted)("a planted cache %s: refused, naming it, before stap runs", async (_what, plant, message) => {
    reset();
    plant();
    const run = await launch(root);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^qtrip: ${CACHE} ${message.source}.*: this launcher runs as root and trusts only a directory of root's`, "m"));
    expect(run.stderr).not.toContain("qtrip: running: stap");
    // Nothing was written into the user's directory.
    expect(statSync(join(root, "home/u/.cache")).uid).toBe(USER);
    expect(lstatSync(join(root, "home/u/.cache/qtrip"), { throwIfNoEntry: false })).toBeUndefined();
    reset();
  }, 600_000);
});
