// The pipeline as a library: source text → diagnostics and, when there is no
// error, the guest and host scripts. The CLI is a thin shell around this.
import { basename } from "node:path";
import { check } from "./check/checker.js";
import type { CheckedFile } from "./check/checked.js";
import { emitGuest, emitHost, emitLauncher, launcherName, SUPPORTED_KERNELS, type HostAction, type HostProbe, type KernelRange } from "./codegen/stap/index.js";
import { planGuest } from "./plan/plan.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { RuleFile } from "./syntax/ast.js";
import { parse } from "./syntax/parse.js";

export interface CheckSourceOptions {
  /** The file name as the user gave it: used in default labels and headers. */
  fileName: string;
  defines?: ReadonlyMap<string, string>;
}

export interface CompileOptions extends CheckSourceOptions {
  dryRun?: boolean;
  hostAction?: HostAction;
  hostProbe?: HostProbe;
  /** The host script trips for any guest on the host (default: only the VMM process given with stap -x). */
  anyGuest?: boolean;
  /** A libvirt domain name, for the host script's header command. */
  libvirtDomain?: string;
  /** The kernels the guest script is built for (default: every kernel line qtrip supports). */
  kernel?: KernelRange;
}

export interface CheckSourceResult {
  ast: RuleFile;
  checked?: CheckedFile;
  diagnostics: Diagnostic[];
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** Present only when the file has no error. */
  outputs?: { guestName: string; guest: string; hostName: string; host: string; launcherName: string; launcher: string };
}

/** `rule.qt` → `rule`; any other name keeps its extension out of the way too. */
export function outputBase(fileName: string): string {
  return basename(fileName).replace(/\.qt$/, "");
}

export function checkSource(source: string, options: CheckSourceOptions): CheckSourceResult {
  const parsed = parse(source);
  const checkedResult = check(parsed.file, source, { fileName: options.fileName, ...(options.defines ? { defines: options.defines } : {}) });
  // Checking a file that does not parse would only repeat its syntax errors.
  const syntaxErrors = hasErrors(parsed.diagnostics);
  const diagnostics = [...parsed.diagnostics, ...checkedResult.diagnostics.filter((d) => !syntaxErrors || d.code !== "E0130")].sort(
    (a, b) => a.span.start.offset - b.span.start.offset,
  );
  return {
    ast: parsed.file,
    ...(checkedResult.checked && !syntaxErrors ? { checked: checkedResult.checked } : {}),
    diagnostics,
  };
}

export function compileSource(source: string, options: CompileOptions): CompileResult {
  const { checked, diagnostics } = checkSource(source, options);
  if (!checked || hasErrors(diagnostics)) return { diagnostics };
  return { diagnostics, outputs: emitScripts(checked, source, options) };
}

/** The guest and host scripts of a file that checked without errors. */
export function emitScripts(checked: CheckedFile, source: string, options: CompileOptions): NonNullable<CompileResult["outputs"]> {
  const base = outputBase(options.fileName);
  const guestName = `${base}.guest.stp`;
  const hostName = `${base}.host.stp`;
  const plan = planGuest(checked, { dryRun: options.dryRun ?? false });
  const sourceName = basename(options.fileName);
  const guest = emitGuest({ plan, kernel: options.kernel ?? SUPPORTED_KERNELS, sourceName, sourceText: source, outputName: guestName });
  return {
    guestName,
    guest,
    launcherName: launcherName(guestName),
    launcher: emitLauncher({ scriptName: guestName, sourceName, kernelKprobes: /^probe\s[^{]*\bkprobe\.function\(/m.test(guest) }),
    hostName,
    host: emitHost({
      file: checked,
      action: options.hostAction ?? "int13",
      probe: options.hostProbe ?? "kvm_fast_pio",
      anyGuest: options.anyGuest ?? false,
      ...(options.libvirtDomain !== undefined ? { libvirtDomain: options.libvirtDomain } : {}),
      sourceName,
      sourceText: source,
      outputName: hostName,
    }),
  };
}
