// The tools a sustaining engineer opens a dump with, run here on a dump file
// (reading a file: nothing is loaded into this machine's kernel): Debian's crash
// and drgn, both with the test kernel's debug vmlinux (.ci/chain).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../../support/stap.js";
import { debugVmlinux } from "./dump.js";

/** qtrip's drgn helper, as the package ships it. */
export const VMM_HELPER = join(repoRoot, "src/dump/qtrip-vmm.py");

/** The output of crash's commands on a dump, each command's output after a line "== COMMAND". */
export function crash(vmcore: string, commands: string[]): Map<string, string> {
  const input = commands.flatMap((c) => [`!echo "== ${c}"`, c]).join("\n") + "\nquit\n";
  const out = execFileSync("crash", ["-s", debugVmlinux(), vmcore], { input, encoding: "utf8", maxBuffer: 256 << 20, timeout: 300_000 });
  const sections = new Map<string, string>();
  for (const part of out.split(/^== /m).slice(1)) {
    const newline = part.indexOf("\n");
    sections.set(part.slice(0, newline), part.slice(newline + 1));
  }
  return sections;
}

/** What a drgn script prints on a dump (drgn -c VMCORE -s VMLINUX SCRIPT ARGS…); Debian's drgn runs on Debian's python3. */
export function drgn(vmcore: string, script: string, args: string[] = []): string {
  return execFileSync("/usr/bin/drgn", ["-q", "-c", vmcore, "-s", debugVmlinux(), script, ...args], { encoding: "utf8", timeout: 300_000 });
}
