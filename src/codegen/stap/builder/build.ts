// `qtrip build`: the generated scripts built into kernel modules on a build
// machine that has the target kernels' headers, for guests (and hosts) without
// a compiler, and the exact staprun commands that load them. Each module is
// built with the options its script's header names, by the build machine's
// SystemTap as installed; a runtime that needs a fix for these headers gets a
// private patched copy (runtime.ts).
import { checkRelease, findStap, kernelTree, requireSystemMap, SYSTEM_ROOTS, type MachineRoots, type Stap } from "./environment.js";
import { neededOptions } from "./options.js";
import { cacheRoot, neededFixes, patchedRuntime } from "./runtime.js";
import { buildModule, headerRunLines, probesKernelFunctions, type RunLine } from "./stap.js";

export { checkRelease };

/** Kernel module names (stap -m): letters, digits, underscores; the kernel keeps 55 characters. */
const MAX_MODULE_NAME = 55;

/** `rule` → `rule_guest`; a name stap would refuse is an error rather than a guess. */
export function moduleName(base: string, role: "guest" | "host"): string | { error: string } {
  const name = `${base.replace(/[^A-Za-z0-9_]/g, "_")}_${role}`;
  if (name.length > MAX_MODULE_NAME) return { error: `'${base}' is too long for a module name (${name}: at most ${MAX_MODULE_NAME} characters): rename the rule file` };
  return name;
}

export interface BuildTarget {
  role: "guest" | "host";
  /** The generated script, and its name as `qtrip compile` writes it. */
  script: string;
  scriptName: string;
  release: string;
  moduleName: string;
}

export interface BuiltModule extends BuildTarget {
  bytes: Buffer;
  runLines: RunLine[];
  seconds: number;
}

export interface BuildEnvironment {
  env?: NodeJS.ProcessEnv;
  roots?: MachineRoots;
  /** Progress lines ("building …"), for stderr. */
  progress?: (line: string) => void;
}

/** Checks everything a target needs before anything is built: stap, headers, symbol table. */
function prepare(target: BuildTarget, stap: Stap, environment: BuildEnvironment, told: Set<string>): { runtime?: string; runLines: RunLine[]; options: string[] } {
  const roots = environment.roots ?? SYSTEM_ROOTS;
  const tree = kernelTree(target.release, roots);
  if (probesKernelFunctions(target.script)) requireSystemMap(tree, roots);
  const runLines = headerRunLines(target.script);
  const optionFixes = neededOptions(stap.runtime, tree.header, /^probe\s[^{]*\bprocess\b/m.test(target.script));
  for (const fix of optionFixes) environment.progress?.(`${target.moduleName} for ${target.release}: ${fix.name}`);
  const options = [...runLines[0]!.build, ...optionFixes.flatMap((f) => f.options)];
  const fixes = neededFixes(stap.runtime, tree.header);
  if (!fixes.length) return { runLines, options };
  const patched = patchedRuntime(stap.runtime, fixes, cacheRoot(environment.env));
  if (!told.has(patched.dir)) {
    told.add(patched.dir);
    environment.progress?.(
    `SystemTap's runtime (${stap.runtime}) does not build for ${target.release} as shipped; ${patched.made ? "made" : "using"} a patched copy: ${patched.dir} (${fixes.map((f) => f.name).join("; ")})`,
    );
  }
  return { runtime: patched.dir, runLines, options };
}

/** Builds every target, one after the other (a stap build takes a core); nothing is written here. */
export async function buildModules(targets: BuildTarget[], environment: BuildEnvironment = {}): Promise<BuiltModule[]> {
  const env = environment.env ?? process.env;
  const stap = findStap(env);
  const told = new Set<string>();
  const prepared = targets.map((t) => prepare(t, stap, environment, told));
  const built: BuiltModule[] = [];
  for (const [i, target] of targets.entries()) {
    const { runtime, runLines, options } = prepared[i]!;
    environment.progress?.(`building ${target.moduleName}.ko for ${target.release} (stap -p4; a first build with empty caches takes about a minute)`);
    const started = Date.now();
    const bytes = await buildModule({
      program: stap.program,
      script: target.script,
      scriptName: target.scriptName,
      moduleName: target.moduleName,
      release: target.release,
      options,
      ...(runtime ? { runtime } : {}),
      env,
    });
    built.push({ ...target, bytes, runLines, seconds: (Date.now() - started) / 1000 });
  }
  return built;
}

/** `staprun -L MODULE.ko NAME=VALUE…` for each of the header's run lines. */
export function staprunCommands(module: BuiltModule): string[] {
  const commands = module.runLines.map((r) => ["staprun", "-L", ...r.staprun, `${module.moduleName}.ko`, ...r.params].join(" "));
  const width = Math.max(...commands.map((c) => c.length));
  return commands.map((c, i) => {
    const note = module.runLines[i]!.note;
    return note ? `${c.padEnd(width)}   # ${note}` : c;
  });
}

/** The text of `rule.staprun.txt`: where each module runs, its commands, how to unload and sign it. */
export function staprunText(sourceName: string, modules: BuiltModule[]): string {
  const lines = [`# qtrip build of ${sourceName}: load with staprun (Debian: the systemtap-runtime package; no compiler, no headers).`];
  for (const m of modules) {
    lines.push(
      "#",
      m.role === "guest" ? `# In the guest (kernel ${m.release}), as root:` : `# On the hypervisor (kernel ${m.release}), as root:`,
      ...staprunCommands(m),
      `# -L returns once the probes are armed; unload with: staprun -d ${m.moduleName}`,
    );
  }
  lines.push(
    "#",
    "# A Secure Boot or lockdown kernel loads only signed modules: sign each with a key it trusts (a MOK enrolled",
    "# with mokutil --import), e.g. /usr/lib/linux-kbuild-*/scripts/sign-file sha256 MOK.priv MOK.der MODULE.ko",
  );
  return `${lines.join("\n")}\n`;
}
