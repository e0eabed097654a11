// The pipeline, written once: its stages in order, each a function of the one
// before's products, and runPipeline() that runs them up to a named stage.
// compile, check, explain, sources, the CLI and the LSP all run it; nothing
// else calls the parser, the checker, the planner or a backend in sequence.
//
//   parse (lexer, parser, AST) → check → plan (guest and host) → emit (scripts)
//
// A stage runs only when the ones before gave no error. The CLI is a thin shell around this.
import { basename } from "node:path";
import { check } from "./check/checker.js";
import type { CheckedFile } from "./check/checked.js";
import { DEFAULT_HOST_BACKEND, hostBackend, hostChoiceProblem, type HostBackend, type HostBackendName, type HostChoice } from "./codegen/host-backends.js";
import { GUEST_BACKEND, type KernelRange } from "./codegen/guest-backend.js";
import { planHost, type HostPlan } from "./plan/host.js";
import { capabilityDiagnostics, planGuest, type GuestPlan } from "./plan/plan.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { RuleFile } from "./syntax/ast.js";
import { parse } from "./syntax/parse.js";

/** The stages in the order they run. */
export const STAGES = ["parse", "check", "plan", "emit"] as const;
export type Stage = (typeof STAGES)[number];

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

/** The guest plan, the host plan and the host backend that will write it. */
export interface Plans {
  guest: GuestPlan;
  host: HostPlan;
  hostBackend: HostBackend;
}

export interface Outputs {
  guestName: string;
  guest: string;
  hostName: string;
  host: string;
  launcherName: string;
  launcher: string;
  /** The host script's companion, when its backend has one (the SystemTap backend's launcher, rule.host.sh). */
  hostCompanion?: { name: string; text: string; mode: number };
}

/** What the stages that ran made: each product is there when its stage ran without error. */
export interface Products {
  diagnostics: Diagnostic[];
  /** The parse always gives a file (statements that do not parse are left out). */
  ast: RuleFile;
  checked?: CheckedFile;
  plans?: Plans;
  outputs?: Outputs;
}

export interface CheckSourceResult {
  ast: RuleFile;
  checked?: CheckedFile;
  diagnostics: Diagnostic[];
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** Present only when the file has no error. */
  outputs?: Outputs;
}

/** `rule.qt` → `rule`; any other name keeps its extension out of the way too. */
export function outputBase(fileName: string): string {
  return basename(fileName).replace(/\.qt$/, "");
}

function inFileOrder(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.span.start.offset - b.span.start.offset);
}

/** Runs the stages in order, up to and including `until`, stopping after the first that gives an error. */
export function runPipeline(source: string, options: CompileOptions, until: Stage): Products {
  const parsed = parse(source);
  const products: Products = { ast: parsed.file, diagnostics: parsed.diagnostics };
  if (until === "parse") return products;
  // Checking a file that does not parse still finds its other errors; its products stop here.
  const checkedResult = check(parsed.file, source, { fileName: options.fileName, ...(options.defines ? { defines: options.defines } : {}) });
  const syntaxErrors = hasErrors(parsed.diagnostics);
  // A file that does not parse would only repeat its syntax errors as "no rule".
  products.diagnostics = inFileOrder([...parsed.diagnostics, ...checkedResult.diagnostics.filter((d) => !syntaxErrors || d.code !== "E0130")]);
  if (!checkedResult.checked || syntaxErrors) return products;
  products.checked = checkedResult.checked;
  if (until === "check" || hasErrors(products.diagnostics)) return products;
  const plans = planStage(products.checked, { name: options.fileName, text: source }, options);
  products.diagnostics = inFileOrder([...products.diagnostics, ...capabilityDiagnostics(plans.guest, GUEST_BACKEND)]);
  if (hasErrors(products.diagnostics)) return products;
  products.plans = plans;
  if (until === "plan") return products;
  products.outputs = emitStage(plans, source, options);
  return products;
}

export function checkSource(source: string, options: CheckSourceOptions): CheckSourceResult {
  const { ast, checked, diagnostics } = runPipeline(source, options, "check");
  return { ast, ...(checked ? { checked } : {}), diagnostics };
}

export function compileSource(source: string, options: CompileOptions): CompileResult {
  const { diagnostics, outputs } = runPipeline(source, options, "emit");
  return { diagnostics, ...(outputs ? { outputs } : {}) };
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

/** The plan stage: a checked file's guest and host plans; host options the backend cannot honour throw (the CLI checks them first). */
export function planStage(checked: CheckedFile, source: { name: string; text: string }, options: HostOptions & { dryRun?: boolean }): Plans {
  const chosen = hostChoice(options);
  if ("problem" in chosen) throw new Error(chosen.problem);
  const { backend, choice } = chosen;
  return {
    guest: planGuest(checked, { dryRun: options.dryRun ?? false }),
    host: planHost(checked, { ...choice, source: { name: basename(source.name), text: source.text }, outputBase: outputBase(source.name) }),
    hostBackend: backend,
  };
}

/** The emit stage: the guest script, its launcher, the host script and its companion. */
function emitStage(plans: Plans, source: string, options: CompileOptions): Outputs {
  const base = outputBase(options.fileName);
  const guestName = `${base}.guest.stp`;
  const sourceName = basename(options.fileName);
  const guest = GUEST_BACKEND.emit({ plan: plans.guest, kernel: options.kernel ?? GUEST_BACKEND.kernels, sourceName, sourceText: source, outputName: guestName });
  const launcher = GUEST_BACKEND.launcher({ script: guest, scriptName: guestName, sourceName });
  const { hostBackend: backend } = plans;
  const host = backend.emit(plans.host);
  return {
    guestName,
    guest,
    launcherName: launcher.name,
    launcher: launcher.text,
    hostName: backend.outputName(base),
    host,
    ...(backend.companion ? { hostCompanion: backend.companion(plans.host, host) } : {}),
  };
}
