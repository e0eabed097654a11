// Runs the built CLI as a user would: the launcher dist/qtrip (made by `npm run build`).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./stap.js";

export const qtripBin = join(repoRoot, "dist/qtrip");

export function qtrip(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(qtripBin, args, { cwd, encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
