// Build targets prepared by .ci/targets: one debootstrap chroot per Debian suite,
// each with that suite's own systemtap, gcc, make and current kernel headers.
// stapInTarget() runs `stap -pN` inside a target's chroot, as a user of that
// suite would run it, with a SystemTap cache of the target's own (so warm builds
// are fast). Nothing is ever loaded: pass 4 at most.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChroot } from "./chroot.js";

export const targetsDir = process.env.QTRIP_TARGETS ?? "/var/cache/qtrip/targets";

/** The suites .ci/targets prepares, oldest first. */
export const SUITES = ["bullseye", "bookworm", "trixie"] as const;
export type Suite = (typeof SUITES)[number];

/** target.json, as .ci/targets writes it. Paths inside the chroot start with "/"; host paths are absolute too but outside. */
export interface Target {
  suite: Suite;
  debianVersion: string;
  /** Content key: suite, kernel ABI, package versions, recipe. */
  key: string;
  /** e.g. "6.1.0-57-amd64" */
  kernelRelease: string;
  /** Debian version of the kernel packages, e.g. "6.1.192-3". */
  kernelVersion: string;
  /** e.g. "4.8" */
  stapVersion: string;
  packages: Record<string, string>;
  /** Host path of the chroot. */
  root: string;
  /** In the chroot: /usr/src/linux-headers-KVER (holds the real System.map and KVM's trace.h). */
  buildTree: string;
  systemMap: string;
  kvmTraceHeader: string;
  /** Host paths: the unpacked kernel image and its modules, for QEMU boots. */
  kernelImage: string;
  modules: string;
  /** In the chroot: SYSTEMTAP_DIR. */
  stapCache: string;
  builtAt: string;
  buildSeconds: number;
  sizeBytes: number;
}

export type TargetEntry = { suite: Suite; target: Target; reason?: undefined } | { suite: Suite; target?: undefined; reason: string };

/** Every suite, with its target or the reason it is absent. */
export function listTargets(): TargetEntry[] {
  return SUITES.map((suite) => {
    const file = join(targetsDir, suite, "target.json");
    if (!existsSync(file)) return { suite, reason: `no target for ${suite}: ${file} is absent (run: bash .ci/targets ${suite})` };
    try {
      const target = JSON.parse(readFileSync(file, "utf8")) as Target;
      if (!existsSync(join(target.root, "usr/bin/stap"))) return { suite, reason: `target ${suite} has no stap in ${target.root}` };
      return { suite, target };
    } catch (e) {
      return { suite, reason: `cannot read ${file}: ${(e as Error).message}` };
    }
  });
}

export function target(suite: Suite): Target | undefined {
  return listTargets().find((t) => t.suite === suite)?.target;
}

export interface TargetStapResult {
  ok: boolean;
  stderr: string;
  /** Host path of the built module, when pass 4 succeeded. */
  module?: string;
  /** The first line of stderr that reads as an error, for reports. */
  firstError?: string;
}

export interface TargetStapOptions {
  pass?: 1 | 2 | 3 | 4;
  /** Options as a script's header gives them, split (`-g`, `--suppress-handler-errors`, `-D…`). */
  options?: string[];
  moduleName?: string;
  /** A runtime directory inside the chroot, passed as -R (see patchedRuntime). */
  runtime?: string;
  /** Directories inside the chroot, passed as -I (extra tapsets). */
  tapsets?: string[];
  /** Milliseconds before the build is killed. */
  timeout?: number;
}

/** The first line of stap's output that says what went wrong. */
export function firstError(stderr: string): string | undefined {
  const lines = stderr.split("\n");
  return (
    lines.find((l) => /\berror\b|undefined!|no match|semantic error|Pass \d: .*failed/i.test(l) && !/^\s*$/.test(l))?.trim() ??
    lines.find((l) => l.trim() !== "")?.trim()
  );
}

/** Runs the target's own `stap -pPASS -r KVER` on a script, inside its chroot. */
export function stapInTarget(t: Target, script: string, opts: TargetStapOptions = {}): Promise<TargetStapResult> {
  const tmp = join(t.root, "tmp");
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, "qtrip-stap-"));
  const inside = dir.slice(t.root.length); // the same directory as the chroot sees it
  writeFileSync(join(dir, "script.stp"), script);
  const moduleName = opts.moduleName ?? `qtrip_${Math.random().toString(36).slice(2, 10)}`;
  const pass = opts.pass ?? 4;
  const args = [
    t.root,
    "/usr/bin/env",
    "-i",
    "-C",
    inside,
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "LC_ALL=C",
    `SYSTEMTAP_DIR=${t.stapCache}`,
    "stap",
    `-p${pass}`,
    ...(opts.options ?? []),
    ...(opts.runtime ? ["-R", opts.runtime] : []),
    ...(opts.tapsets ?? []).flatMap((d) => ["-I", d]),
    "-r",
    t.kernelRelease,
    "-m",
    moduleName,
    "script.stp",
  ];
  return runChroot(args[0]!, args.slice(1), opts.timeout).then((run) => {
    if (run.error) return { ok: false, stderr: run.error, firstError: run.error };
    const ok = run.status === 0;
    const module = join(dir, `${moduleName}.ko`);
    if (!ok || pass !== 4) rmSync(dir, { recursive: true, force: true });
    return { ok, stderr: run.stderr, ...(ok ? {} : { firstError: firstError(run.stderr) }), ...(ok && pass === 4 ? { module } : {}) };
  });
}

/**
 * The runtime fixes a target needs, as sed-style replacements on files of
 * SystemTap's runtime (see test/targets/FINDINGS.md). Each applies only where
 * the target's kernel headers need it.
 */
export interface RuntimePatch {
  file: string;
  why: string;
  /** Applies when this returns true for the target (read from its headers). */
  needed: (t: Target) => boolean;
  apply: (text: string) => string;
}

function header(t: Target, path: string): string {
  const kver = t.kernelRelease.replace(/-amd64$/, "");
  for (const base of [`usr/src/linux-headers-${kver}-common`, `usr/src/linux-headers-${t.kernelRelease}`]) {
    const file = join(t.root, base, path);
    if (existsSync(file)) return readFileSync(file, "utf8");
  }
  return "";
}

export const RUNTIME_PATCHES: RuntimePatch[] = [
  {
    file: "stp_task_work.c",
    why: "a stable backport renamed task_work_cancel() (now task_work_cancel_func(); task_work_cancel() takes a callback_head)",
    // Needed where the kernel has task_work_cancel_func() and the runtime does not know it (5.1 does, by autoconf).
    needed: (t) =>
      /\btask_work_cancel_func\b/.test(header(t, "include/linux/task_work.h")) &&
      !/task_work_cancel_func/.test(readFileSync(join(t.root, "usr/share/systemtap/runtime/stp_task_work.c"), "utf8")),
    apply: (text) => text.replace(/\btask_work_cancel\b/g, "task_work_cancel_func"),
  },
];

/**
 * stap command-line options a target needs (see FINDINGS.md), read from its headers:
 * SystemTap's tracepoint query modules define their own __COUNT_ARGS/COUNT_ARGS
 * (12 arguments) after <linux/tracepoint.h>; where the kernel's <linux/args.h>
 * defines them differently (15 arguments, 6.12), gcc warns "redefined", the
 * query's own -Werror fails it, and every kernel.trace() is "no match".
 * `-B KCFLAGS=-w` silences warnings in every module stap builds, queries included.
 */
export function stapOptions(t: Target, script = ""): string[] {
  const args = header(t, "include/linux/args.h");
  const stapDefines = "__COUNT_ARGS(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _n, X...) _n";
  const kcflags = args.includes("define __COUNT_ARGS") && !args.includes(stapDefines) ? ["-B", "KCFLAGS=-w"] : [];
  // A script with uprobes (the host's --host-probe qemu) needs the real lookups: no such options for it.
  return [...kcflags, ...(/^probe\s[^{]*\bprocess\b/m.test(script) ? [] : uprobeLookupOptions(t))];
}

/**
 * SystemTap's module start (transport.c, _stp_handle_start's symbol lookups) looks
 * up uprobe_unregister and uprobe_get_swbp_addr with kallsyms_lookup_name and fails
 * the whole module when one is missing ("Can't resolve uprobe_unregister!",
 * systemtap_module_init() returns -1: no begin probe, nothing armed; `staprun -L`
 * still exits 0). 6.12's uprobes API has no uprobe_unregister (it is
 * uprobe_unregister_nosync/_sync) and its uprobe_get_swbp_addr, still declared, is
 * not in the symbol table; stap 5.1 looks both up. The lookups are compiled out
 * where STAPCONF_…_EXPORTED says the kernel exports them; a script without uprobes
 * never calls either, so defining both removes lookups of what the module never uses.
 */
export function uprobeLookupOptions(t: Target): string[] {
  const uprobes = header(t, "include/linux/uprobes.h");
  const transport = readFileSync(join(t.root, "usr/share/systemtap/runtime/transport/transport.c"), "utf8");
  const oldApiLookup = transport.includes('kallsyms_lookup_name ("uprobe_unregister")');
  return oldApiLookup && !/\buprobe_unregister\s*\(/.test(uprobes) ? [...UPROBE_LOOKUP_OPTIONS] : [];
}

export const UPROBE_LOOKUP_OPTIONS = ["-DSTAPCONF_UPROBE_UNREGISTER_EXPORTED", "-DSTAPCONF_UPROBE_GET_SWBP_ADDR_EXPORTED"] as const;

/** Whether the target needs a private runtime copy (stap -R). */
export function needsPatchedRuntime(t: Target, patches: RuntimePatch[] = RUNTIME_PATCHES): boolean {
  return patches.some((p) => p.needed(t));
}

/**
 * A copy of the target's SystemTap runtime with RUNTIME_PATCHES applied, inside
 * the chroot (for stap -R). Returns its path as the chroot sees it. The
 * system's own copy is never touched.
 */
export function patchedRuntime(t: Target, patches: RuntimePatch[] = RUNTIME_PATCHES): string {
  const applied = patches.filter((p) => p.needed(t));
  const name = `qtrip-runtime-${applied.map((p) => p.file.replace(/\W/g, "_")).join("-") || "stock"}`;
  const inside = `/var/cache/${name}`;
  const dir = join(t.root, inside);
  const stamp = join(dir, ".qtrip-patched");
  if (existsSync(stamp)) return inside;
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(t.root, "usr/share/systemtap/runtime"), dir, { recursive: true });
  for (const p of applied) {
    const file = join(dir, p.file);
    writeFileSync(file, p.apply(readFileSync(file, "utf8")));
  }
  writeFileSync(stamp, applied.map((p) => `${p.file}: ${p.why}\n`).join(""));
  return inside;
}

/** The stap options of a script's own header ("# Run, as root:" then "#   stap OPTIONS… NAME.stp"), without -G and -x. */
export function headerOptions(script: string): string[] {
  const line = script.split("\n").find((l) => /^#\s+stap\s/.test(l));
  if (!line) throw new Error("the script's header names no stap command");
  const words = line.replace(/^#\s+stap\s+/, "").split(/\s+/).filter(Boolean);
  const options: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i].endsWith(".stp") || words[i] === "#") break;
    if (words[i] === "-G" || words[i] === "-x") {
      i++;
      continue;
    }
    options.push(words[i]);
  }
  return options;
}

/**
 * Builds a generated script as qtrip writes it (the script-level work-arounds of
 * FINDINGS.md are the generator's), with its header's options, the command-line
 * options the target's kernel needs, and a private runtime copy only where no
 * script-level or command-line fix exists.
 */
export function buildForTarget(t: Target, script: string, moduleName?: string, opts: { uprobeLookupOptions?: boolean } = {}): Promise<TargetStapResult> {
  // A control build (test/e2e/host/kernels.test.ts) leaves the uprobe options out to show what they change.
  const options = stapOptions(t, script).filter((o) => opts.uprobeLookupOptions !== false || !(UPROBE_LOOKUP_OPTIONS as readonly string[]).includes(o));
  return stapInTarget(t, script, {
    options: [...headerOptions(script), ...options],
    runtime: needsPatchedRuntime(t) ? patchedRuntime(t) : undefined,
    timeout: 600_000,
    ...(moduleName ? { moduleName } : {}),
  });
}
