// Reading a capture: the freeze's directory (trace.txt and meta.json), or a plain
// ftrace text with the VMM's pid and the trip's time given by the user.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { error } from "../diagnostics/diagnostic.js";
import type { CaptureMeta, Ns, ParsedTrace } from "./events.js";
import { parseTrace, spanAt, TraceError } from "./parse.js";

export interface Capture {
  /** The trace's file name as the user would open it, for messages. */
  traceFile: string;
  text: string;
  trace: ParsedTrace;
  meta: CaptureMeta;
}

/** Bad input in a file the user gave, with its name and text for the caret. */
export class CaptureError extends Error {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly diagnostic: TraceError["diagnostic"],
  ) {
    super(diagnostic.message);
  }
}

/** A file that cannot be read, or options that do not fit the input: the caller's usage error. */
export class CaptureUsageError extends Error {}

export interface CaptureOptions {
  vmmPid?: number;
  /** The trip's time in the trace's seconds (e.g. "123.456789"). */
  tripTime?: string;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CaptureUsageError(`cannot read '${path}': ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code ?? e)}`);
  }
}

/** Seconds as the trace prints them into nanoseconds; undefined if it is not such a number. */
export function secondsToNs(value: string): Ns | undefined {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  return m ? Number(m[1]) * 1e9 + Number((m[2] ?? "").padEnd(9, "0")) : undefined;
}

export function loadCapture(path: string, options: CaptureOptions = {}): Capture {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new CaptureUsageError(`cannot read '${path}': no such file or directory`);
  }
  if (isDir) {
    if (options.tripTime !== undefined || options.vmmPid !== undefined) {
      throw new CaptureUsageError("--vmm-pid and --trip-time are for a plain trace file; a capture directory has them in meta.json");
    }
    const metaFile = join(path, "meta.json");
    const metaText = read(metaFile);
    const traceFile = join(path, "trace.txt");
    const text = read(traceFile);
    const meta = parseMeta(metaFile, metaText);
    const trace = parse(traceFile, text);
    if (Number.isNaN(meta.tripTime)) {
      meta.tripTime = trace.events[trace.events.length - 1]!.t;
      meta.tripMissing = true;
    }
    return { traceFile, text, trace, meta };
  }
  if (options.tripTime === undefined) throw new CaptureUsageError(`'${path}' is a plain trace file: give the trip's time with --trip-time SECONDS (as the trace prints it)`);
  const tripTime = secondsToNs(options.tripTime);
  if (tripTime === undefined) throw new CaptureUsageError(`--trip-time ${options.tripTime}: seconds as the trace prints them, e.g. 1234.567890`);
  const text = read(path);
  return { traceFile: path, text, trace: parse(path, text), meta: { tripTime, ...(options.vmmPid !== undefined ? { vmmPid: options.vmmPid } : {}) } };
}

function parse(file: string, text: string): ParsedTrace {
  try {
    return parseTrace(text);
  } catch (e) {
    if (e instanceof TraceError) throw new CaptureError(file, text, e.diagnostic);
    throw e;
  }
}

/** Where JSON.parse stopped, as a line and column of the text. */
function jsonErrorAt(text: string, message: string) {
  const position = /position (\d+)/.exec(message);
  const offset = position ? Number(position[1]) : text.length;
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return spanAt(offset - (before.length - before.lastIndexOf("\n") - 1), line, before.length - before.lastIndexOf("\n") - 1);
}

type Field = "number" | "string" | "threads" | "channel";

/** meta.json's fields: the freeze's contract (see docs/report.md). */
const META_FIELDS: Record<string, Field> = {
  case: "string",
  title: "string",
  vmmPid: "number",
  vcpuThreads: "threads",
  hostKernel: "string",
  traceClock: "string",
  tripTimestamp: "number",
  tripTid: "number",
  thresholdNs: "number",
  channel: "channel",
  bufferKb: "number",
  capturedAt: "string",
};

export function parseMeta(file: string, text: string): CaptureMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    throw new CaptureError(file, text, error("E0903", jsonErrorAt(text, message), `meta.json is not JSON: ${message.replace(/ in JSON at position \d+.*$/, "")}`));
  }
  const where = (key: string) => {
    const at = text.indexOf(`"${key}"`);
    const offset = at < 0 ? 0 : at;
    const before = text.slice(0, offset);
    const lineStart = before.lastIndexOf("\n") + 1;
    return spanAt(lineStart, before.split("\n").length, offset - lineStart, at < 0 ? 1 : key.length + 2);
  };
  const bad = (key: string, expected: string) => new CaptureError(file, text, error("E0904", where(key), `meta.json: '${key}' ${expected}`));
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("", "expected an object of capture fields");
  const record = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(META_FIELDS)) {
    const v = record[key];
    if (v === undefined || v === null) continue;
    if (kind === "threads") {
      const ok = Array.isArray(v) && v.every((t) => typeof t === "object" && t !== null && Number.isInteger(t.tid) && typeof t.comm === "string");
      if (!ok) throw bad(key, "expected a list of {tid, comm}");
    } else if (kind === "channel") {
      // The freeze writes {port, value}; a string is accepted too.
      if (typeof v !== "string" && (typeof v !== "object" || Array.isArray(v))) throw bad(key, "expected {port, value}");
    } else if (typeof v !== kind) throw bad(key, `expected a ${kind}`);
  }
  const { tripTimestamp, ...rest } = record as Record<string, never>;
  // null: the freeze found no channel write record (overwritten); the trace's last record stands in (loadCapture).
  const meta: CaptureMeta = { tripTime: typeof tripTimestamp === "number" ? Math.round((tripTimestamp as number) * 1e9) : NaN };
  for (const key of Object.keys(META_FIELDS)) if (key !== "tripTimestamp" && rest[key] !== undefined && rest[key] !== null) (meta as unknown as Record<string, unknown>)[key] = rest[key];
  return meta;
}
