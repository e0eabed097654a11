// One open document as the compiler sees it: its text checked by the
// compiler's own pipeline, once per version, shared by every request.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { runPipeline, type Products } from "./compiler.js";

export interface Analysis {
  uri: string;
  version: number;
  text: string;
  /** The name `qtrip check` would be given: the file's path for file: URIs. */
  fileName: string;
  /** The pipeline's products up to the plan: the diagnostics `qtrip check` gives, the AST and the checked file. */
  result: Products;
}

/** file:///x/rule.qt → /x/rule.qt; any other scheme → its last path segment. */
export function fileNameOf(uri: string): string {
  if (uri.startsWith("file:")) {
    try {
      return fileURLToPath(uri);
    } catch {
      // A malformed file: URI still names a file for labels.
    }
  }
  return basename(decodeURIComponent(uri.replace(/[?#].*$/, ""))) || "untitled.qt";
}

const cache = new Map<string, Analysis>();

export function analyse(document: TextDocument): Analysis {
  const cached = cache.get(document.uri);
  if (cached && cached.version === document.version) return cached;
  const text = document.getText();
  const fileName = fileNameOf(document.uri);
  const analysis = { uri: document.uri, version: document.version, text, fileName, result: runPipeline(text, { fileName }, "plan") };
  cache.set(document.uri, analysis);
  return analysis;
}

export function forget(uri: string): void {
  cache.delete(uri);
}
