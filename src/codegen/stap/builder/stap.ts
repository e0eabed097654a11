// Running the build machine's stap on a generated script: the options come
// from the script's own header ("Run, as root:"), split into those that shape
// the module (stap -p4 takes them) and those given when it is loaded (staprun
// takes them); stap's errors are shortened to the lines that say what failed.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildError } from "./errors.js";
// The launcher knows which scripts need the kernel's symbol table; a build needs it for the same ones.
export { probesKernelFunctions } from "../launcher.js";

/** One "Run, as root:" line of a header, split into build and load options. */
export interface RunLine {
  /** Options for stap -p4, in the header's order: -g, --suppress-handler-errors, -D…. */
  build: string[];
  /** Options for staprun: `-x QEMU_PID` (the target process). */
  staprun: string[];
  /** Module parameters, `NAME=VALUE` (from the header's `-G NAME=VALUE`). */
  params: string[];
  /** The comment after the command, if any: "any guest". */
  note?: string;
}

/** stap options that only take effect when the module is loaded, and how staprun says them. */
const LOAD_OPTIONS: Record<string, (value: string) => { staprun?: string[]; param?: string }> = {
  "-G": (value) => ({ param: value }),
  "-x": (value) => ({ staprun: ["-x", value] }),
};

/** The `stap …` commands of a generated script's header, as build and load options. */
export function headerRunLines(script: string): RunLine[] {
  const lines = script.split("\n");
  const start = lines.indexOf("# Run, as root:");
  if (start < 0) throw new Error("the generated script has no 'Run, as root:' header");
  const out: RunLine[] = [];
  for (const line of lines.slice(start + 1)) {
    // The launcher's line (`sh rule.host.sh …`) runs the stap command below it: not a build of its own.
    if (/^#\s+sh\s/.test(line)) continue;
    const m = /^#\s+stap\s+(.*?)\s*(?:#\s*(.*))?$/.exec(line);
    if (!m) break;
    const words = m[1]!.split(/\s+/);
    words.pop(); // the script's file name
    const run: RunLine = { build: [], staprun: [], params: [], ...(m[2] ? { note: m[2] } : {}) };
    for (let i = 0; i < words.length; i++) {
      const load = LOAD_OPTIONS[words[i]!];
      if (!load) {
        run.build.push(words[i]!);
        continue;
      }
      // A value may hold a shell command substitution of several words: `-x $(cat /run/libvirt/qemu/DOMAIN.pid)`,
      // `-G qt_pidfile_time=$(stat -c %Y /run/libvirt/qemu/DOMAIN.pid)`.
      let value = words[++i] ?? "";
      const open = (v: string) => v.split("(").length > v.split(")").length;
      while (open(value) && i + 1 < words.length) value += ` ${words[++i]}`;
      const { staprun, param } = load(value);
      if (staprun) run.staprun.push(...staprun);
      if (param) run.params.push(param);
    }
    out.push(run);
  }
  if (!out.length) throw new Error("the generated script's header names no stap command");
  const build = out[0]!.build.join(" ");
  if (out.some((r) => r.build.join(" ") !== build)) throw new Error("the generated script's header names different build options");
  return out;
}

export interface StapBuild {
  program: string;
  script: string;
  /** The script's file name, as `qtrip compile` writes it: stap's messages point into it. */
  scriptName: string;
  /** stap -m: letters, digits and underscores; also the module's file name. */
  moduleName: string;
  release: string;
  options: string[];
  /** A private runtime (stap -R), when the system's needs a fix. */
  runtime?: string;
  env?: NodeJS.ProcessEnv;
}

/** The command line, for tests and for a user who wants to run it by hand. */
export function stapArgs(b: StapBuild, file: string): string[] {
  return ["-p4", ...b.options, ...(b.runtime ? ["-R", b.runtime] : []), "-r", b.release, "-m", b.moduleName, file];
}

/** Runs stap -p4 in a temporary directory; resolves to the module's bytes, or throws a BuildError. */
export async function buildModule(b: StapBuild): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-build-"));
  try {
    const file = join(dir, b.scriptName);
    writeFileSync(file, b.script);
    const { code, stderr, spawnError } = await run(b.program, stapArgs(b, file), dir, b.env);
    if (spawnError) throw new BuildError(`cannot run ${b.program}: ${spawnError}`);
    if (code !== 0) {
      const errors = shortenStapErrors(stderr.split(`${dir}/`).join(""));
      throw new BuildError(`SystemTap could not build ${b.moduleName}.ko for ${b.release}: ${errors}`);
    }
    return readFileSync(join(dir, `${b.moduleName}.ko`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(program: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; spawnError?: string }> {
  return new Promise((done) => {
    const child = spawn(program, args, { cwd, stdio: ["ignore", "ignore", "pipe"], env: env ?? process.env });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", (e) => done({ code: null, stderr, spawnError: e.message }));
    child.on("close", (code) => done({ code, stderr }));
  });
}

const MAX_LINE = 160;

/**
 * stap's failure in a few lines: the pass that failed, then its first errors
 * (compiler errors, semantic errors), each cut to a line's length. Make's
 * recipe noise and the runtime's long paths are left out.
 */
export function shortenStapErrors(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/\x1b\[[0-9;]*m|\x1b\[K/g, "").trimEnd())
    .filter(Boolean);
  const pass = lines.find((l) => /^Pass \d+: .*failed/.test(l))?.replace(/\s*\[man [^\]]*\]$/, "");
  const errors = lines.filter((l) => /\berror\b/i.test(l) && !/^Pass \d+:|^make(\[\d+\])?: \*\*\*|^\s*\[man |^Number of similar error messages/.test(l));
  const shown = (errors.length ? errors : lines.slice(-3)).slice(0, 3).map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 1)}…` : l.trim()));
  const head = pass ? `${pass.replace(/\.$/, "")}` : "stap failed";
  return [head, ...shown.map((l) => `  ${l}`)].join("\n");
}
