// Building generated scripts with the real SystemTap translator, against the
// Debian kernel headers that .ci/install pins (package.json config.testKernel),
// with the patched runtime copy that .ci/install prepares. Nothing is loaded:
// `stap -p4` stops after building the module.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export function stapRuntimePath(): string {
  return process.env.QTRIP_STAP_RUNTIME ?? join(repoRoot, ".cache/stap-runtime");
}
export const kernelRelease: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).config.testKernel;
/**
 * The patched runtime copy .ci/install made, by its real path: .cache/stap-runtime links to
 * /var/cache/qtrip/stap-runtime-KEY, and SystemTap keys its build cache by that path.
 * QTRIP_STAP_RUNTIME points elsewhere (a missing path shows the tests' skips: test/support/installed.ts).
 */
export const stapRuntime = existsSync(stapRuntimePath()) ? realpathSync(stapRuntimePath()) : stapRuntimePath();

export interface StapResult {
  ok: boolean;
  stderr: string;
  /** The built module, when ok. */
  module?: string;
}

/** Options as the script's header gives them (`-g --suppress-handler-errors -D…`). */
export function splitOptions(options: string): string[] {
  return options.split(/\s+/).filter(Boolean);
}

/**
 * Runs `stap -pPASS` on a script text. PASS 4 builds the module into a fresh
 * temporary directory and returns its path; PASS 1 only parses.
 */
export function stap(script: string, opts: { pass?: 1 | 2 | 4; options?: string[]; moduleName?: string; dir?: string } = {}): Promise<StapResult> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "qtrip-stap-"));
  const file = join(dir, "script.stp");
  writeFileSync(file, script);
  const moduleName = opts.moduleName ?? `qtrip_${Math.random().toString(36).slice(2, 10)}`;
  const args = [
    `-p${opts.pass ?? 4}`,
    ...(opts.options ?? []),
    "-R",
    stapRuntime,
    "-r",
    kernelRelease,
    "-m",
    moduleName,
    file,
  ];
  return new Promise((done) => {
    const child = spawn("stap", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.resume();
    child.on("error", (e) => done({ ok: false, stderr: `cannot run stap: ${e.message}` }));
    child.on("close", (code) => {
      const ok = code === 0;
      done({ ok, stderr, ...(ok && (opts.pass ?? 4) === 4 ? { module: join(dir, `${moduleName}.ko`) } : {}) });
    });
  });
}
