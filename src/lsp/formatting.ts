// Document formatting through the prettier plugin, as `qtrip fmt` does: one
// edit replacing the whole text; none when it is formatted already, or when
// it does not parse (the plugin refuses it, as `qtrip fmt` does).
import type { TextEdit } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { formatSource } from "./compiler.js";
import type { Analysis } from "./document.js";

export async function formatDocument(document: TextDocument, analysis: Analysis): Promise<TextEdit[]> {
  let formatted: string;
  try {
    formatted = await formatSource(analysis.text);
  } catch {
    return [];
  }
  if (formatted === analysis.text) return [];
  return [{ range: { start: { line: 0, character: 0 }, end: document.positionAt(analysis.text.length) }, newText: formatted }];
}
