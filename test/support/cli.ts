// Runs the built CLI (dist/qtrip.js, made by `npm run build`) as a user would.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./stap.js";

export const qtripBin = join(repoRoot, "dist/qtrip.js");

export function qtrip(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [qtripBin, ...args], { cwd, encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
