// `qtrip report CAPTURE`: reads a capture, writes the report in one format.
// Thin: the pipeline is src/report/; this maps its errors to exit codes.
import { Option, type Command } from "commander";
import { renderText as renderDiagnostic } from "../diagnostics/render.js";
import { CaptureError, CaptureUsageError, loadCapture } from "../report/capture.js";
import { renderHtml } from "../report/render-html.js";
import { renderSvg } from "../report/render-svg.js";
import { renderText } from "../report/render-text.js";
import { buildReport, reportJson, type Report } from "../report/report.js";
import { durationNanoseconds } from "../syntax/build-ast.js";
import { UsageError, writeAllOrNothing } from "./files.js";

interface ReportFlags {
  window?: string;
  format: "text" | "json" | "svg" | "html";
  output?: string;
  vmmPid?: string;
  tripTime?: string;
}

interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const RENDERERS: Record<ReportFlags["format"], (r: Report) => string> = {
  text: renderText,
  json: reportJson,
  svg: (r) => `${renderSvg(r)}\n`,
  html: renderHtml,
};

function reportCommand(path: string, flags: ReportFlags, io: Io): number {
  let windowNs: number | undefined;
  if (flags.window !== undefined) {
    const ns = durationNanoseconds(flags.window);
    if (ns === undefined || ns <= 0n) throw new UsageError(`--window ${flags.window}: a duration such as 250ms or 1.5s`);
    windowNs = Number(ns);
  }
  if (flags.vmmPid !== undefined && !/^[1-9]\d*$/.test(flags.vmmPid)) throw new UsageError(`--vmm-pid ${flags.vmmPid}: a process id`);
  try {
    const capture = loadCapture(path, { ...(flags.vmmPid ? { vmmPid: Number(flags.vmmPid) } : {}), ...(flags.tripTime !== undefined ? { tripTime: flags.tripTime } : {}) });
    const text = RENDERERS[flags.format](buildReport(capture, windowNs));
    if (flags.output !== undefined) {
      writeAllOrNothing([{ path: flags.output, text }]);
      io.stderr(`wrote ${flags.output}\n`);
    } else {
      io.stdout(text);
    }
    return 0;
  } catch (e) {
    if (e instanceof CaptureError) {
      io.stderr(`${renderDiagnostic(e.diagnostic, { name: e.file, text: e.text })}\n`);
      return 1;
    }
    if (e instanceof CaptureUsageError) throw new UsageError(e.message);
    throw e;
  }
}

export function addReportCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("report")
    .description("say what the hypervisor did to the guest's vCPUs before a trip: a verdict line, then the evidence, from a freeze's capture or an ftrace text")
    .argument("<capture>", "a capture directory (trace.txt and meta.json), or an ftrace text file (with --trip-time)")
    .option("--window <duration>", "how far before the trip to read (default: the rule's threshold + 10%)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "svg", "html"]).default("text"))
    .option("-o, --output <file>", "write to FILE instead of standard output")
    .option("--vmm-pid <pid>", "for an ftrace text: the VMM's process id")
    .option("--trip-time <seconds>", "for an ftrace text: the trip's time as the trace prints it (e.g. 1234.567890)")
    .action((path: string, flags: ReportFlags) => setExit(reportCommand(path, flags, io)));
}
