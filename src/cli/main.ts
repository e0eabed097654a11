// The command line: reads files, calls the pipeline, writes outputs, maps
// diagnostics to text and exit codes. 0: ok; 1: errors in a rule file, or a
// module that cannot be built; 2: usage.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { outputBase } from "../compile.js";
import { explain } from "../explain/explain.js";
import { sources, sourcesText } from "../explain/sources.js";
import { ALL_HOST_ACTIONS, ALL_HOST_PROBES, DEFAULT_HOST_BACKEND, HOST_BACKENDS } from "../codegen/host-backends.js";
import { guestPlanJson, hostPlanJson } from "../plan/show.js";
import { QTRIP_VERSION } from "../version.js";
import { renderText, toJson } from "../diagnostics/render.js";
import { toSarif } from "../diagnostics/sarif.js";
import { parse } from "../syntax/parse.js";
import { explainedCode, readRuleFile, UsageError, writeAllOrNothing } from "./files.js";
import { errorCount, hostOptions, loadAll, parseDefines, reportText, type HostFlags, type LoadedFile } from "./load.js";
import { addReportCommand } from "./report.js";
import type { BuildTarget } from "../codegen/stap/builder/build.js";
import { BuildError } from "../codegen/stap/builder/errors.js";

export const EXIT_OK = 0;
export const EXIT_RULE_ERRORS = 1;
export const EXIT_USAGE = 2;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CompileFlags extends HostFlags {
  output?: string;
  define: string[];
  dryRun?: boolean;
  emit?: "scripts" | "plan";
}

function compileCommand(paths: string[], flags: CompileFlags, io: Io): number {
  const defines = parseDefines(flags.define);
  if (flags.output !== undefined && !isDirectory(flags.output)) throw new UsageError(`-o ${flags.output}: no such directory`);
  const plan = flags.emit === "plan";
  if (plan && flags.output !== undefined) throw new UsageError("--emit plan prints the plan and writes no file: -o has nothing to write");
  const loaded = loadAll(paths, defines, { dryRun: flags.dryRun ?? false, ...hostOptions(flags) }, plan ? "plan" : "emit");
  if (reportText(loaded, io)) {
    const count = errorCount(loaded);
    io.stderr(`qtrip: ${count} error${count === 1 ? "" : "s"}; nothing ${plan ? "printed" : "written"}\n`);
    return EXIT_RULE_ERRORS;
  }
  if (plan) {
    io.stdout(`${JSON.stringify(loaded.map(planJson), null, 2)}\n`);
    return EXIT_OK;
  }
  const outputs = loaded.flatMap(({ path, result }) => {
    const dir = flags.output ?? dirname(path);
    const { guestName, guest, hostName, host, launcherName, launcher, hostCompanion } = result.outputs!;
    return [
      { path: join(dir, guestName), text: guest },
      { path: join(dir, launcherName), text: launcher, mode: 0o755 },
      { path: join(dir, hostName), text: host },
      ...(hostCompanion ? [{ path: join(dir, hostCompanion.name), text: hostCompanion.text, mode: hostCompanion.mode }] : []),
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

/** One input's plan as `--emit plan` prints it (docs/cli.md). */
export function planJson({ path, result }: LoadedFile) {
  const { guest, host, hostBackend } = result.plans!;
  return { file: path, guest: guestPlanJson(guest), host: hostPlanJson(host, hostBackend.name) };
}

interface BuildFlags extends CompileFlags {
  kernel: string;
  hostKernel?: string;
}

/** Compiles one rule file, builds its modules with stap for the kernels named, writes them and the staprun commands. */
async function buildCommand(path: string, flags: BuildFlags, io: Io): Promise<number> {
  // Loaded only here: the other commands never pay for the builder.
  const { buildModules, checkRelease, moduleName, staprunText } = await import("../codegen/stap/builder/build.js");
  for (const release of [flags.kernel, flags.hostKernel]) {
    const bad = release === undefined ? undefined : checkRelease(release);
    if (bad) throw new UsageError(bad);
  }
  const defines = parseDefines(flags.define);
  if (flags.output !== undefined && !isDirectory(flags.output)) throw new UsageError(`-o ${flags.output}: no such directory`);
  const base = outputBase(path);
  const names = { guest: moduleName(base, "guest"), host: moduleName(base, "host") };
  for (const name of Object.values(names)) if (typeof name !== "string") throw new UsageError(name.error);
  // Modules are SystemTap's: the host module is the stap backend's script.
  const [file] = loadAll([path], defines, { dryRun: flags.dryRun ?? false, ...hostOptions({ ...flags, hostBackend: "stap" }) }, "emit");
  if (reportText([file], io)) {
    const count = errorCount([file]);
    io.stderr(`qtrip: ${count} error${count === 1 ? "" : "s"}; nothing built\n`);
    return EXIT_RULE_ERRORS;
  }
  const { guest, guestName, host, hostName } = file.result.outputs!;
  const targets: BuildTarget[] = [{ role: "guest", script: guest, scriptName: guestName, release: flags.kernel, moduleName: names.guest as string }];
  if (flags.hostKernel) targets.push({ role: "host", script: host, scriptName: hostName, release: flags.hostKernel, moduleName: names.host as string });
  const built = await buildModules(targets, { progress: (line) => io.stderr(`qtrip: ${line}\n`) });
  const dir = flags.output ?? dirname(path);
  const commands = staprunText(path, built);
  const outputs = [...built.map((m) => ({ path: join(dir, `${m.moduleName}.ko`), text: m.bytes })), { path: join(dir, `${base}.staprun.txt`), text: commands }];
  writeAllOrNothing(outputs);
  for (const m of built) io.stderr(`qtrip: built ${m.moduleName}.ko in ${m.seconds.toFixed(1)} s\n`);
  for (const { path: written } of outputs) io.stdout(`wrote ${written}\n`);
  io.stdout(commands);
  return EXIT_OK;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

interface CheckFlags {
  define: string[];
  format: "text" | "json" | "sarif";
}

function checkCommand(paths: string[], flags: CheckFlags, io: Io): number {
  const loaded = loadAll(paths, parseDefines(flags.define), {}, "plan");
  if (flags.format === "sarif") {
    const files = loaded.map(({ path, text, result }) => ({ file: { name: path, text }, diagnostics: result.diagnostics }));
    io.stdout(`${JSON.stringify(toSarif(files, QTRIP_VERSION), null, 2)}\n`);
    return errorCount(loaded) ? EXIT_RULE_ERRORS : EXIT_OK;
  }
  if (flags.format === "json") {
    const diagnostics = loaded.flatMap(({ path, text, result }) => result.diagnostics.map((d) => toJson(d, { name: path, text })));
    io.stdout(`${JSON.stringify({ files: loaded.length, errors: errorCount(loaded), diagnostics }, null, 2)}\n`);
    return errorCount(loaded) ? EXIT_RULE_ERRORS : EXIT_OK;
  }
  if (reportText(loaded, io)) return EXIT_RULE_ERRORS;
  io.stdout(`${loaded.map((f) => `${f.path}: ok`).join("\n")}\n`);
  return EXIT_OK;
}

interface ExplainFlags extends HostFlags {
  define: string[];
  dryRun?: boolean;
}

function explainCommand(path: string, flags: ExplainFlags, io: Io): number {
  const host = hostOptions(flags);
  const [file] = loadAll([path], parseDefines(flags.define), {}, "plan");
  if (reportText([file], io)) return EXIT_RULE_ERRORS;
  io.stdout(explain(file.result.checked!, { fileName: path, dryRun: flags.dryRun ?? false, ...host }));
  return EXIT_OK;
}

interface FmtFlags {
  check?: boolean;
}

async function fmtCommand(paths: string[], flags: FmtFlags, io: Io): Promise<number> {
  const { formatSource } = await import("../format/format.js");
  const changed: { path: string; text: string }[] = [];
  let broken = false;
  for (const path of paths) {
    const read = readRuleFile(path);
    const syntax = read.diagnostic ? [read.diagnostic] : parse(read.text!).diagnostics.filter((d) => d.severity === "error");
    if (syntax.length) {
      for (const d of syntax) io.stderr(`${renderText(d, { name: path, text: read.text ?? "" })}\n`);
      broken = true;
      continue;
    }
    const formatted = await formatSource(read.text!);
    if (formatted !== read.text) changed.push({ path, text: formatted });
  }
  if (broken) {
    io.stderr("qtrip: files with syntax errors cannot be formatted; nothing written\n");
    return EXIT_RULE_ERRORS;
  }
  if (flags.check) {
    for (const { path } of changed) io.stdout(`${path}\n`);
    if (changed.length) io.stderr(`qtrip: ${changed.length} file${changed.length === 1 ? " is" : "s are"} not formatted (run qtrip fmt)\n`);
    return changed.length ? EXIT_RULE_ERRORS : EXIT_OK;
  }
  writeAllOrNothing(changed);
  for (const { path } of changed) io.stdout(`formatted ${path}\n`);
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

function buildProgram(io: Io, setExit: (code: number | Promise<number>) => void): Command {
  const program = new Command("qtrip");
  program
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .description("Crash a hypervisor into kdump at the moment a guest sees a symptom: compiles rule files (*.qt) to SystemTap scripts.")
    .version(QTRIP_VERSION, "-V, --version")
    .showHelpAfterError("(run 'qtrip --help' for the commands)");

  const hostBackendOption = () =>
    new Option("--host-backend <backend>", "what the host script is made of (stap: a SystemTap module; ftrace: a shell script over tracefs; bpf: a shell script loading a BPF program, Linux >= 6.1)")
      .choices(HOST_BACKENDS.map((b) => b.name))
      .default(DEFAULT_HOST_BACKEND);
  const backendDefaults = HOST_BACKENDS.map((b) => `${b.name}: ${b.actions[0]}`).join(", ");
  const hostAction = () => new Option("--host-action <action>", `what the host script does on a trip (default: the backend's first, ${backendDefaults})`).choices(ALL_HOST_ACTIONS);
  const hostProbe = () => new Option("--host-probe <point>", "where the host script watches for the write (default: the backend's first)").choices(ALL_HOST_PROBES);
  const anyGuest = ["--any-guest", "the host script trips for ANY guest on the hypervisor (default: only the VMM process given with stap -x PID)"] as const;
  const libvirtDomain = ["--libvirt-domain <name>", "show the host command for this libvirt domain (its VMM pid from /run/libvirt/qemu/NAME.pid)"] as const;
  const define = ["-D, --define <name=value>", "a parameter's value (repeatable)", collect, [] as string[]] as const;

  program
    .command("compile")
    .description("write FILE.guest.stp (run in the guest) and FILE.host.stp (run on the hypervisor) for each rule file")
    .argument("<file...>", "rule files (*.qt)")
    .option("-o, --output <dir>", "write into DIR (default: beside each input)")
    .option(...define)
    .option("--dry-run", "rehearsal: the guest script logs the trip and never writes the port")
    .addOption(new Option("--emit <what>", "scripts: write them; plan: print the plan each file compiles to, as JSON, and write nothing").choices(["scripts", "plan"]).default("scripts"))
    .addOption(hostBackendOption())
    .addOption(hostAction())
    .addOption(hostProbe())
    .option(...anyGuest)
    .option(...libvirtDomain)
    .action((paths: string[], flags: CompileFlags) => setExit(compileCommand(paths, flags, io)));

  program
    .command("build")
    .description("build FILE's guest script (and with --host-kernel its host script) into kernel modules with this machine's stap, for machines without a compiler; writes the .ko files and the staprun commands")
    .argument("<file>", "a rule file (*.qt)")
    .requiredOption("--kernel <release>", "the guest's kernel release (uname -r there); its headers must be in /lib/modules/RELEASE/build here")
    .option("--host-kernel <release>", "build the host module too, for the hypervisor's kernel release")
    .option("-o, --output <dir>", "write into DIR (default: beside the input)")
    .option(...define)
    .option("--dry-run", "rehearsal: the guest module logs the trip and never writes the port")
    .addOption(hostAction())
    .addOption(hostProbe())
    // A block, not an arrow's value: commander would chain the promise and leave its rejection unhandled.
    .action((path: string, flags: BuildFlags) => {
      setExit(buildCommand(path, flags, io));
    });

  program
    .command("check")
    .description("check rule files as compile does, writing nothing")
    .argument("<file...>", "rule files (*.qt)")
    .option(...define)
    .addOption(new Option("--format <format>", "how to print diagnostics (sarif: SARIF 2.1.0, for CI annotations)").choices(["text", "json", "sarif"]).default("text"))
    .action((paths: string[], flags: CheckFlags) => setExit(checkCommand(paths, flags, io)));

  program
    .command("explain")
    .description("say in plain words what each rule watches, what it costs, when it trips and what the host does then; or what a diagnostic code means")
    .argument("<file>", "a rule file (*.qt), or a diagnostic code (E0146)")
    .option(...define)
    .option("--dry-run", "explain the rehearsal scripts")
    .addOption(hostBackendOption())
    .addOption(hostAction())
    .addOption(hostProbe())
    .option(...anyGuest)
    .option(...libvirtDomain)
    .action((path: string, flags: ExplainFlags) => setExit(explainedCode(path, io) ? EXIT_OK : explainCommand(path, flags, io)));

  program
    .command("fmt")
    .description("rewrite rule files in the canonical layout (comments kept); --check only names those that are not")
    .argument("<file...>", "rule files (*.qt)")
    .option("--check", "write nothing; exit 1 if a file is not formatted")
    .action((paths: string[], flags: FmtFlags) => {
      setExit(fmtCommand(paths, flags, io));
    });

  program
    .command("lsp")
    .description("run the language server (Language Server Protocol over stdin and stdout) for an editor's LSP client")
    .option("--stdio", "talk over stdin and stdout (the default; accepted because LSP clients pass it)")
    .action(async () => {
      // Loaded only here: the other commands never pay for the server.
      const { startServer } = await import("../lsp/server.js");
      startServer({ version: QTRIP_VERSION });
      // The server runs on; it ends the process when its client says `exit` or closes stdin.
      setExit(EXIT_OK);
    });

  program
    .command("sources")
    .description("list the conditions: syntax, filters, probe points, cost, and an example")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action((flags: { format: "text" | "json" }) => {
      io.stdout(flags.format === "json" ? `${JSON.stringify(sources(), null, 2)}\n` : sourcesText());
      setExit(EXIT_OK);
    });

  addReportCommand(program, io, setExit);
  return program;
}

/** Runs the CLI; resolves to the exit status. Never throws, never prints a stack trace. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let code: number | Promise<number> = EXIT_OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    program.parse(argv, { from: "user" });
    return await code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof BuildError) {
      io.stderr(`qtrip: ${e.message}\n`);
      return EXIT_RULE_ERRORS;
    }
    if (e instanceof UsageError) {
      io.stderr(`qtrip: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`qtrip: internal error: ${e instanceof Error ? e.message : String(e)}\nPlease report this with the rule file that caused it.\n`);
    return EXIT_USAGE;
  }
}
