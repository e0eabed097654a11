// stap options some kernels' headers need with the SystemTap that builds for
// them, where no runtime copy or script can help (test/targets/FINDINGS.md).
// Each is decided by content (the headers, the runtime), never by version; the
// guest's launcher (src/codegen/stap/launcher.ts) makes the same decisions in sh.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HeaderFiles } from "./runtime.js";

export interface OptionFix {
  name: string;
  options: string[];
}

/** SystemTap's tracepoint queries define COUNT_ARGS this way after <linux/tracepoint.h>. */
const STAP_COUNT_ARGS = "__COUNT_ARGS(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _n, X...) _n";

/**
 * 6.12's <linux/args.h> defines COUNT_ARGS for 15 arguments; the queries' redefinition
 * warns, their -Werror fails every query, and every kernel.trace() is "no match".
 * -B KCFLAGS=-w drops the warning in every module stap builds, queries included.
 */
export const KCFLAGS_NO_WARNINGS: OptionFix = { name: "-B KCFLAGS=-w: <linux/args.h> defines COUNT_ARGS, which SystemTap's tracepoint queries redefine", options: ["-B", "KCFLAGS=-w"] };

/**
 * SystemTap 5.1 looks up uprobe_unregister() and uprobe_get_swbp_addr() when a module
 * starts and fails the start if either is missing; 6.12 has neither in its symbol table
 * (uprobe_unregister_nosync/_sync). The macros compile the lookups out; a script without
 * uprobes never calls either.
 */
export const NO_UPROBE_LOOKUPS: OptionFix = {
  name: "no uprobe_unregister() lookup at start: this kernel has none and the script has no uprobes",
  options: ["-DSTAPCONF_UPROBE_UNREGISTER_EXPORTED", "-DSTAPCONF_UPROBE_GET_SWBP_ADDR_EXPORTED"],
};

/** The option fixes these headers need with this runtime, for a script with or without uprobes. */
export function neededOptions(runtimeDir: string, headers: HeaderFiles, scriptHasUprobes: boolean): OptionFix[] {
  const fixes: OptionFix[] = [];
  const args = headers("linux/args.h");
  if (args !== undefined && args.includes("define __COUNT_ARGS") && !args.includes(STAP_COUNT_ARGS)) fixes.push(KCFLAGS_NO_WARNINGS);
  const transport = join(runtimeDir, "transport/transport.c");
  const looksUp = existsSync(transport) && readFileSync(transport, "utf8").includes('kallsyms_lookup_name ("uprobe_unregister")');
  if (!scriptHasUprobes && looksUp && !/\buprobe_unregister\s*\(/.test(headers("linux/uprobes.h") ?? "")) fixes.push(NO_UPROBE_LOOKUPS);
  return fixes;
}
