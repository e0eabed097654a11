// SystemTap's runtime, as the build machine's distribution ships it, and the
// fixes it needs to build against a given kernel's headers. A runtime that
// needs one is copied once into a private cache, keyed by its content and the
// fixes, patched there and passed to stap with -R; the system's copy is never
// touched.
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { BuildError } from "./errors.js";

/** A change to one runtime file that some kernel headers need. */
export interface RuntimeFix {
  /** Says what and why, for the user and the cache key. */
  name: string;
  /** The runtime file it changes, relative to the runtime directory. */
  file: string;
  /** Whether these headers need it for this runtime (both read by content, never by version). */
  needed(headers: HeaderFiles, runtimeFile: string): boolean;
  apply(text: string): string;
}

/** Reads a header file (`linux/task_work.h`) from a kernel's include directories, or undefined. */
export type HeaderFiles = (path: string) => string | undefined;

/**
 * Stable backports to 6.1 and 5.10 renamed the old task_work_cancel(task, func)
 * to task_work_cancel_func(); task_work_cancel() now takes a callback_head.
 * SystemTap 4.8's stp_task_work.c still calls the old one, so pass 4 fails.
 */
export const TASK_WORK_CANCEL_FUNC: RuntimeFix = {
  name: "task_work_cancel → task_work_cancel_func, which a stable backport renamed",
  file: "stp_task_work.c",
  needed(headers, runtimeFile) {
    const header = headers("linux/task_work.h");
    return header !== undefined && /\btask_work_cancel_func\b/.test(header) && !/\btask_work_cancel_func\b/.test(runtimeFile) && /\btask_work_cancel\b/.test(runtimeFile);
  },
  apply: (text) => text.replace(/\btask_work_cancel\b/g, "task_work_cancel_func"),
};

export const RUNTIME_FIXES: readonly RuntimeFix[] = [TASK_WORK_CANCEL_FUNC];

/** The fixes these headers need for this runtime directory, in order. */
export function neededFixes(runtimeDir: string, headers: HeaderFiles, fixes: readonly RuntimeFix[] = RUNTIME_FIXES): RuntimeFix[] {
  return fixes.filter((fix) => {
    const file = join(runtimeDir, fix.file);
    return existsSync(file) && fix.needed(headers, readFileSync(file, "utf8"));
  });
}

/** Every file under a directory, relative paths sorted. */
function treeFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return treeFiles(dir, path);
      return entry.isFile() ? [path] : [];
    });
}

/** sha256 of a runtime tree's paths and contents, and of the fixes' names and code. */
export function runtimeKey(runtimeDir: string, fixes: readonly RuntimeFix[]): string {
  const hash = createHash("sha256");
  for (const path of treeFiles(runtimeDir)) hash.update(`${path}\0`).update(readFileSync(join(runtimeDir, path))).update("\0");
  for (const fix of fixes) hash.update(`fix ${fix.name}\0${fix.file}\0${fix.apply.toString()}\0`);
  return hash.digest("hex");
}

/** Where qtrip keeps patched runtimes: $XDG_CACHE_HOME/qtrip, else ~/.cache/qtrip. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "qtrip");
}

export interface PatchedRuntime {
  dir: string;
  /** Made by this call (false: found in the cache). */
  made: boolean;
}

/**
 * The runtime with the fixes applied, in `cache/stap-runtime-<sha>`: made once
 * (copied into a temporary directory, patched, renamed into place, so that a
 * crashed or concurrent run never leaves a half-made copy), then reused.
 */
export function patchedRuntime(runtimeDir: string, fixes: readonly RuntimeFix[], cache: string): PatchedRuntime {
  const dir = join(cache, `stap-runtime-${runtimeKey(runtimeDir, fixes).slice(0, 16)}`);
  if (existsSync(dir)) return { dir, made: false };
  const temp = join(cache, `.stap-runtime-${randomBytes(6).toString("hex")}.tmp`);
  try {
    mkdirSync(cache, { recursive: true });
    cpSync(runtimeDir, temp, { recursive: true, dereference: true });
    for (const fix of fixes) {
      const file = join(temp, fix.file);
      writeFileSync(file, fix.apply(readFileSync(file, "utf8")));
    }
    renameSync(temp, dir);
  } catch (e) {
    if (existsSync(temp)) rmSync(temp, { recursive: true, force: true });
    // Another run made it meanwhile: theirs is as good as ours.
    if (existsSync(dir) && statSync(dir).isDirectory()) return { dir, made: false };
    // A cache that cannot be written (a read-only or foreign home): the user's to fix, so said as such.
    throw new BuildError(
      `cannot make a patched copy of SystemTap's runtime in ${cache}: ${(e as Error).message} (qtrip keeps it in $XDG_CACHE_HOME/qtrip, else ~/.cache/qtrip: make that writable, or set XDG_CACHE_HOME to a directory that is)`,
    );
  }
  return { dir, made: true };
}
