// `qtrip report`'s pipeline, written once: capture → parse → analyse → verdict,
// then one renderer per format, each reading the same Report.
import { analyse, type Analysis } from "./analyse.js";
import type { Capture } from "./capture.js";
import type { Ns } from "./events.js";
import { judge, type Verdict } from "./verdict.js";

export interface Report extends Analysis {
  verdict: Verdict;
  /** The trace file the report was made from. */
  source: string;
}

/** The format version of `--format json` (docs/report.md): raised when a field changes meaning or goes. */
export const REPORT_JSON_VERSION = 1;

export function buildReport(capture: Capture, windowNs?: Ns): Report {
  const analysis = analyse(capture.trace, capture.meta, windowNs);
  return { ...analysis, verdict: judge(analysis), source: capture.traceFile };
}

export function reportJson(report: Report): string {
  return `${JSON.stringify({ version: REPORT_JSON_VERSION, ...report }, null, 2)}\n`;
}
