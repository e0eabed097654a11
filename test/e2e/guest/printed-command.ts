// The init-script lines that load a prebuilt module the way `qtrip build` told
// the user to: its printed staprun command, as printed, with VALUE replaced by
// the watched pid, in a guest that first says it has no compiler and no headers.
import { PHASE } from "./harness.js";

/** The printed command lines that start with `staprun ` (a guest build prints exactly one). */
export function printedStaprunCommands(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.startsWith("staprun "));
}

/** Session lines: check the guest has no compiler or headers, then run `command` from / (where the module is). */
export function loadWithPrintedCommand(command: string, pid: string): string {
  return `[ -e /usr/bin/gcc ] || [ -e /usr/bin/cc ] || [ -e /lib/modules/$(uname -r)/build ] || echo "qtrip-e2e: no compiler, no headers"
       cd /
       if ${command.replace("VALUE", pid)}; then mark ${PHASE.armed}; else echo "qtrip-e2e: staprun failed with status $?"; fi`;
}
