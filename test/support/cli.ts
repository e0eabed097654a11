// Runs the built CLI as a user would: the command dist/qtrip (made by `npm run build`).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { run } from "../../src/cli/main.js";
import { repoRoot } from "./stap.js";

export const qtripBin = join(repoRoot, "dist/qtrip");

/** Runs dist/qtrip ARGS in `cwd`; `env` adds to (or, with undefined values, removes from) this process's environment. */
export function qtrip(args: string[], cwd: string, env: Record<string, string | undefined> = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(qtripBin, args, { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI in this process (run(argv, io)), as dist/qtrip would; what it printed and its exit status. */
export async function runQtrip(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { status, stdout, stderr };
}
