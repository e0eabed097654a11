// `qtrip` as a user of a build target's suite runs it (test/support/targets.ts):
// inside the target's chroot, a build machine of that Debian release with its
// stap as shipped, with this machine's node and this checkout's dist/ copied
// into a temporary directory under the chroot's /tmp, removed afterwards
// (dist/ alone, no node_modules: `build` loads no external package, prettier
// included, which a run there proves).
// The outputs are copied out first. What stays in the chroot is cache only:
// SystemTap's (SYSTEMTAP_DIR, as stapInTarget uses it) and qtrip's own
// (XDG_CACHE_HOME: patched runtime copies), both under /var/cache/qtrip-*,
// which .ci/stock leaves out of a stock image; so repeated runs are warm.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runChroot } from "./chroot.js";
import { repoRoot } from "./stap.js";
import type { Target } from "./targets.js";

/** qtrip's cache inside a target's chroot (its XDG_CACHE_HOME). */
export const TARGET_QTRIP_CACHE = "/var/cache/qtrip-build";

export interface TargetQtripRun {
  status: number;
  stdout: string;
  stderr: string;
  /** Files qtrip wrote in its working directory, copied out: name → host path. */
  outputs: Record<string, string>;
}

/**
 * Runs `qtrip ARGS…` (the command dist/qtrip, which runs dist/qtrip.js) as root
 * inside the target's chroot, in a working directory that holds `inputs`
 * (name → text), with a clean environment: PATH (node's directory first, then
 * the system's), HOME, LC_ALL and the two caches.
 */
export function qtripInTarget(t: Target, args: string[], inputs: Record<string, string>, opts: { timeout?: number } = {}): Promise<TargetQtripRun> {
  mkdirSync(join(t.root, "tmp"), { recursive: true });
  const dir = mkdtempSync(join(t.root, "tmp", "qtrip-cli-"));
  const inside = dir.slice(t.root.length);
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "work"));
  copyFileSync(process.execPath, join(dir, "bin/node"));
  cpSync(join(repoRoot, "dist"), join(dir, "qtrip"), { recursive: true });
  for (const [name, text] of Object.entries(inputs)) writeFileSync(join(dir, "work", name), text);
  const command = [
    t.root,
    "/usr/bin/env",
    "-i",
    "-C",
    `${inside}/work`,
    `PATH=${inside}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    "HOME=/root",
    "LC_ALL=C",
    `SYSTEMTAP_DIR=${t.stapCache}`,
    `XDG_CACHE_HOME=${TARGET_QTRIP_CACHE}`,
    `${inside}/qtrip/qtrip`,
    ...args,
  ];
  return runChroot(command[0]!, command.slice(1), opts.timeout).then((run) => {
    if (run.error) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(run.error);
    }
    const out = mkdtempSync(join(tmpdir(), `qtrip-${t.suite}-cli-`));
    const outputs: Record<string, string> = {};
    for (const name of readdirSync(join(dir, "work")).filter((n) => !(n in inputs))) {
      copyFileSync(join(dir, "work", name), join(out, name));
      outputs[name] = join(out, name);
    }
    rmSync(dir, { recursive: true, force: true });
    return { status: run.status ?? -1, stdout: run.stdout, stderr: run.signal ? `${run.stderr}\n(killed by ${run.signal})` : run.stderr, outputs };
  });
}
