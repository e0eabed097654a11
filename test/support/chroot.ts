// Runs a command inside a chroot (a build target's, or a stock-like copy of one) with the
// output collected: the one way the tests enter a chroot (targets.ts, target-qtrip.ts,
// stock-root.ts).
import { spawn } from "node:child_process";

export interface ChrootRun {
  /** The exit status; null when it did not start or was killed. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Why chroot itself could not run. */
  error?: string;
}

/** `chroot ROOT ARGV…`, killed (SIGKILL) after timeoutMs if given. */
export function runChroot(root: string, argv: string[], timeoutMs?: number): Promise<ChrootRun> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn("chroot", [root, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : undefined;
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const end = (run: Omit<ChrootRun, "stdout" | "stderr" | "seconds">) => {
      if (timer) clearTimeout(timer);
      done({ ...run, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    };
    child.on("error", (e) => end({ status: null, signal: null, error: `cannot run chroot: ${e.message}` }));
    child.on("close", (status, signal) => end({ status, signal }));
  });
}
