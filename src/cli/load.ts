// Reading rule files into the pipeline, for the commands that take them: the
// --define values and host options checked as usage, each file run up to the
// stage a command needs, its diagnostics printed as text.
import { runPipeline, hostChoice, type CompileOptions, type HostOptions, type Products, type Stage } from "../compile.js";
import { renderText } from "../diagnostics/render.js";
import { readRuleFile, UsageError } from "./files.js";
import type { Io } from "./main.js";

export function parseDefines(pairs: string[]): Map<string, string> {
  const defines = new Map<string, string>();
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--define takes NAME=VALUE, not '${pair}'`);
    if (defines.has(match[1])) throw new UsageError(`--define ${match[1]} is given twice`);
    defines.set(match[1], match[2]);
  }
  return defines;
}

/** The host options as commander gives them, before they are checked. */
export type HostFlags = HostOptions;

/** The host script's options, checked: the backend must have them, and a libvirt domain name goes into shell commands. */
export function hostOptions(flags: HostFlags): HostOptions {
  const domain = flags.libvirtDomain;
  if (domain !== undefined) {
    if (flags.anyGuest) throw new UsageError("--libvirt-domain chooses one guest; --any-guest lets any guest trip: give one of them");
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(domain)) throw new UsageError(`--libvirt-domain '${domain}': a domain name of letters, digits and . _ + - (libvirt's pid file is /run/libvirt/qemu/NAME.pid)`);
  }
  const options: HostOptions = {
    ...(flags.hostBackend !== undefined ? { hostBackend: flags.hostBackend } : {}),
    ...(flags.hostAction !== undefined ? { hostAction: flags.hostAction } : {}),
    ...(flags.hostProbe !== undefined ? { hostProbe: flags.hostProbe } : {}),
    anyGuest: flags.anyGuest ?? false,
    ...(domain !== undefined ? { libvirtDomain: domain } : {}),
  };
  const chosen = hostChoice(options);
  if ("problem" in chosen) throw new UsageError(chosen.problem);
  return options;
}

export interface LoadedFile {
  path: string;
  text: string;
  result: Omit<Products, "ast">;
}

/** Reads every input and runs the pipeline on it up to `until`; --define names must be declared by some input. */
export function loadAll(paths: string[], defines: Map<string, string>, options: Omit<CompileOptions, "fileName" | "defines">, until: Stage): LoadedFile[] {
  const loaded: LoadedFile[] = [];
  const declared = new Set<string>();
  for (const path of paths) {
    const read = readRuleFile(path);
    const text = read.text ?? "";
    let result: LoadedFile["result"];
    if (read.diagnostic) {
      result = { diagnostics: [read.diagnostic] };
    } else {
      const { ast, ...products } = runPipeline(text, { fileName: path, defines, ...options }, until);
      result = products;
      for (const item of ast.items) if (item.kind === "Param") declared.add(item.name.name);
    }
    loaded.push({ path, text, result });
  }
  for (const name of defines.keys()) {
    if (!declared.has(name)) throw new UsageError(`--define ${name}: no rule file declares a parameter '${name}'`);
  }
  return loaded;
}

/** Prints every diagnostic; says whether any was an error. */
export function reportText(loaded: LoadedFile[], io: Io): boolean {
  for (const { path, text, result } of loaded) {
    for (const d of result.diagnostics) io.stderr(`${renderText(d, { name: path, text })}\n`);
  }
  return errorCount(loaded) > 0;
}

export function errorCount(loaded: LoadedFile[]): number {
  return loaded.reduce((n, f) => n + f.result.diagnostics.filter((d) => d.severity === "error").length, 0);
}
