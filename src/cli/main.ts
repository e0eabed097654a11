// The command line: reads files, calls the pipeline, writes outputs, maps
// diagnostics to text and exit codes. 0: ok; 1: errors in a rule file; 2: usage.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { compileSource, outputBase, type CompileResult } from "../compile.js";
import { QTRIP_VERSION } from "../codegen/header.js";
import { HOST_ACTIONS, HOST_PROBES, type HostAction, type HostProbe } from "../codegen/host.js";
import { hasErrors } from "../diagnostics/diagnostic.js";
import { renderText } from "../diagnostics/render.js";
import { readRuleFile, UsageError, writeAllOrNothing } from "./files.js";

export const EXIT_OK = 0;
export const EXIT_RULE_ERRORS = 1;
export const EXIT_USAGE = 2;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseDefines(pairs: string[]): Map<string, string> {
  const defines = new Map<string, string>();
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--define takes NAME=VALUE, not '${pair}'`);
    if (defines.has(match[1])) throw new UsageError(`--define ${match[1]} is given twice`);
    defines.set(match[1], match[2]);
  }
  return defines;
}

interface CompileFlags {
  output?: string;
  define: string[];
  dryRun?: boolean;
  hostAction: HostAction;
  hostProbe: HostProbe;
}

function compileCommand(paths: string[], flags: CompileFlags, io: Io): number {
  const defines = parseDefines(flags.define);
  if (flags.output !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(flags.output).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new UsageError(`-o ${flags.output}: no such directory`);
  }
  const results: { path: string; text: string; result: CompileResult }[] = [];
  const declared = new Set<string>();
  for (const path of paths) {
    const read = readRuleFile(path);
    const result: CompileResult = read.diagnostic
      ? { diagnostics: [read.diagnostic] }
      : compileSource(read.text!, {
          fileName: path,
          defines,
          dryRun: flags.dryRun ?? false,
          hostAction: flags.hostAction,
          hostProbe: flags.hostProbe,
        });
    for (const m of read.text?.matchAll(/^\s*param\s+([A-Za-z_][A-Za-z0-9_]*)/gm) ?? []) declared.add(m[1]);
    results.push({ path, text: read.text ?? "", result });
  }
  for (const name of defines.keys()) {
    if (!declared.has(name)) throw new UsageError(`--define ${name}: no rule file declares a parameter '${name}'`);
  }
  for (const { path, text, result } of results) {
    for (const d of result.diagnostics) io.stderr(`${renderText(d, { name: path, text })}\n`);
  }
  if (results.some((r) => hasErrors(r.result.diagnostics))) {
    const count = results.reduce((n, r) => n + r.result.diagnostics.filter((d) => d.severity === "error").length, 0);
    io.stderr(`qtrip: ${count} error${count === 1 ? "" : "s"}; nothing written\n`);
    return EXIT_RULE_ERRORS;
  }
  const outputs = results.flatMap(({ path, result }) => {
    const dir = flags.output ?? dirname(path);
    const { guestName, guest, hostName, host } = result.outputs!;
    return [
      { path: join(dir, guestName), text: guest },
      { path: join(dir, hostName), text: host },
    ];
  });
  const targets = new Set<string>();
  for (const { path } of outputs) {
    if (targets.has(path)) throw new UsageError(`two inputs would both write '${path}' (${outputBase(path)}): use -o or rename one`);
    targets.add(path);
  }
  writeAllOrNothing(outputs);
  for (const { path } of outputs) io.stdout(`wrote ${path}\n`);
  return EXIT_OK;
}

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command("qtrip");
  program
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .description("Crash a hypervisor into kdump at the moment a guest sees a symptom: compiles rule files (*.qt) to SystemTap scripts.")
    .version(QTRIP_VERSION, "-V, --version")
    .showHelpAfterError("(run 'qtrip --help' for the commands)");

  program
    .command("compile")
    .description("write FILE.guest.stp (run in the guest) and FILE.host.stp (run on the hypervisor) for each rule file")
    .argument("<file...>", "rule files (*.qt)")
    .option("-o, --output <dir>", "write into DIR (default: beside each input)")
    .option("-D, --define <name=value>", "bake a parameter's value into the scripts (repeatable)", collect, [])
    .option("--dry-run", "rehearsal: the guest script logs the trip and never writes the port")
    .addOption(new Option("--host-action <action>", "what the host probe does on a trip").choices(HOST_ACTIONS).default("int13"))
    .addOption(new Option("--host-probe <point>", "where the host probe watches for the write").choices(HOST_PROBES).default("kvm_fast_pio"))
    .action((paths: string[], flags: CompileFlags) => setExit(compileCommand(paths, flags, io)));

  return program;
}

/** Runs the CLI; returns the exit status. Never throws, never prints a stack trace. */
export function run(argv: string[], io: Io = processIo): number {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    program.parse(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.stderr(`qtrip: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`qtrip: internal error: ${e instanceof Error ? e.message : String(e)}\nPlease report this with the rule file that caused it.\n`);
    return EXIT_USAGE;
  }
}
