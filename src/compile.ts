// The pipeline as a library: source text → diagnostics and, when there is no
// error, the guest and host scripts. The CLI is a thin shell around this.
import { basename } from "node:path";
import { check } from "./check/checker.js";
import type { CheckedFile } from "./check/checked.js";
import { DEFAULT_HOST_BACKEND, hostBackend, hostChoiceProblem, type HostBackend, type HostBackendName, type HostChoice } from "./codegen/host-backends.js";
import { emitGuest, emitLauncher, launcherName, SUPPORTED_KERNELS, type KernelRange } from "./codegen/stap/index.js";
import { planHost, type HostPlan } from "./plan/host.js";
import { planGuest } from "./plan/plan.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { RuleFile } from "./syntax/ast.js";
import { parse } from "./syntax/parse.js";

export interface CheckSourceOptions {
  /** The file name as the user gave it: used in default labels and headers. */
  fileName: string;
  defines?: ReadonlyMap<string, string>;
}

/** The host side's options; each defaults to the backend's first (stap: int13 at kvm_fast_pio). */
export interface HostOptions {
  hostBackend?: HostBackendName;
  hostAction?: string;
  hostProbe?: string;
  /** The host script trips for any guest on the host (default: only the VMM process given when it runs). */
  anyGuest?: boolean;
  /** A libvirt domain name: the guest the host script watches by default. */
  libvirtDomain?: string;
}

export interface CompileOptions extends CheckSourceOptions, HostOptions {
  dryRun?: boolean;
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
  outputs?: {
    guestName: string;
    guest: string;
    hostName: string;
    host: string;
    launcherName: string;
    launcher: string;
    /** The host script's companion, when its backend has one (the SystemTap backend's launcher, rule.host.sh). */
    hostCompanion?: { name: string; text: string; mode: number };
  };
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

/** The backend the options name and what they ask of it, or why it cannot do that (a usage error's words). */
export function hostChoice(options: HostOptions): { backend: HostBackend; choice: HostChoice } | { problem: string } {
  const name = options.hostBackend ?? DEFAULT_HOST_BACKEND;
  const backend = hostBackend(name);
  if (!backend) return { problem: `--host-backend ${name}: no such backend` };
  const choice: HostChoice = {
    action: options.hostAction ?? backend.actions[0],
    probe: options.hostProbe ?? backend.probes[0],
    vmm: options.anyGuest ? { kind: "any" } : options.libvirtDomain !== undefined ? { kind: "libvirt", domain: options.libvirtDomain } : { kind: "pid" },
  };
  const problem = hostChoiceProblem(backend, choice);
  return problem ? { problem } : { backend, choice };
}

/** The host plan of a checked file and its backend; options the backend cannot honour throw (the CLI checks them first). */
export function planHostSide(checked: CheckedFile, source: { name: string; text: string }, options: HostOptions): { backend: HostBackend; plan: HostPlan } {
  const chosen = hostChoice(options);
  if ("problem" in chosen) throw new Error(chosen.problem);
  const { backend, choice } = chosen;
  return { backend, plan: planHost(checked, { ...choice, source: { name: basename(source.name), text: source.text }, outputBase: outputBase(source.name) }) };
}

/** The guest and host scripts of a file that checked without errors. */
export function emitScripts(checked: CheckedFile, source: string, options: CompileOptions): NonNullable<CompileResult["outputs"]> {
  const base = outputBase(options.fileName);
  const guestName = `${base}.guest.stp`;
  const { backend, plan: hostPlan } = planHostSide(checked, { name: options.fileName, text: source }, options);
  const plan = planGuest(checked, { dryRun: options.dryRun ?? false });
  const sourceName = basename(options.fileName);
  const guest = emitGuest({ plan, kernel: options.kernel ?? SUPPORTED_KERNELS, sourceName, sourceText: source, outputName: guestName });
  const host = backend.emit(hostPlan);
  return {
    guestName,
    guest,
    launcherName: launcherName(guestName),
    launcher: emitLauncher({ scriptName: guestName, sourceName, kernelKprobes: /^probe\s[^{]*\bkprobe\.function\(/m.test(guest) }),
    hostName: backend.outputName(base),
    host,
    ...(backend.companion ? { hostCompanion: backend.companion(hostPlan, host) } : {}),
  };
}
