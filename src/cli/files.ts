// Reading rule files and writing outputs: UTF-8 checked, writes atomic and all-or-nothing;
// and the one argument that is not a file, `qtrip explain CODE`.
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { error, type Diagnostic } from "../diagnostics/diagnostic.js";
import { CODES, explainCode, isCode } from "../diagnostics/registry.js";
import { didYouMean } from "../diagnostics/suggest.js";

export class UsageError extends Error {}

export interface ReadResult {
  text?: string;
  /** A file that is not UTF-8 text gets a diagnostic, like any other error in it. */
  diagnostic?: Diagnostic;
}

export function readRuleFile(path: string): ReadResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : String(code ?? e);
    throw new UsageError(`cannot read '${path}': ${reason}`);
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    // Point at the first byte that is not UTF-8.
    let good = 0;
    for (let end = bytes.length; good < end; ) {
      const mid = Math.ceil((good + end) / 2);
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid));
        good = mid;
      } catch {
        end = mid - 1;
      }
    }
    const prefix = new TextDecoder("utf-8").decode(bytes.subarray(0, good));
    const lines = prefix.split("\n");
    const at = { offset: prefix.length, line: lines.length, column: lines[lines.length - 1].length + 1 };
    return {
      diagnostic: error("E0000", { start: at, end: { ...at, offset: at.offset + 1, column: at.column + 1 } }, `the file is not UTF-8 text (byte ${good})`, {
        suggestion: "save it as UTF-8",
      }),
      text: new TextDecoder("utf-8").decode(bytes),
    };
  }
}

/**
 * Writes every file or none: each goes to a temporary file beside its target
 * first; only when all are written are they renamed into place, and if one
 * rename fails, the ones already done are rolled back to what was there.
 */
export function writeAllOrNothing(files: { path: string; text: string | Uint8Array; mode?: number }[]): void {
  const staged: { temp: string; path: string; backup?: string; placed?: boolean }[] = [];
  const tempName = (path: string, kind: string) => join(dirname(path), `.${randomBytes(6).toString("hex")}.qtrip-${kind}`);
  let current = "";
  try {
    for (const { path, text, mode } of files) {
      current = path;
      const entry: (typeof staged)[number] = { temp: tempName(path, "tmp"), path };
      staged.push(entry);
      writeFileSync(entry.temp, text, { mode: mode ?? 0o644 });
    }
    for (const entry of staged) {
      current = entry.path;
      if (existsSync(entry.path) && statSync(entry.path).isFile()) {
        entry.backup = tempName(entry.path, "bak");
        linkSync(entry.path, entry.backup);
      }
      renameSync(entry.temp, entry.path);
      entry.placed = true;
    }
  } catch (e) {
    for (const entry of staged) {
      if (entry.placed) {
        if (entry.backup) renameSync(entry.backup, entry.path);
        else rmSync(entry.path, { force: true });
      } else if (entry.backup) {
        rmSync(entry.backup, { force: true });
      }
      rmSync(entry.temp, { force: true });
    }
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot write '${current}': ${err.code ?? err.message}`);
  }
  for (const entry of staged) if (entry.backup) rmSync(entry.backup, { force: true });
}

/** `qtrip explain E0146`: when the argument looks like a diagnostic code and names no file, prints what the code means. */
export function explainedCode(path: string, io: { stdout(text: string): void }): boolean {
  if (!/^[EW]\d{4}$/i.test(path) || existsSync(path)) return false;
  const code = path.toUpperCase();
  if (!isCode(code)) {
    const hint = didYouMean(code, CODES);
    throw new UsageError(`${path} is no diagnostic code of qtrip${hint ? ` (${hint})` : ""}; docs/diagnostics.md lists them`);
  }
  io.stdout(explainCode(code));
  return true;
}
