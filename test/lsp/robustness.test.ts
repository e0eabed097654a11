// The server never crashes on bad input: files with every kind of error, an
// empty file, text that was not UTF-8 (replacement characters, lone
// surrogates, control characters) and requests at every position of each
// still get answers, and the server then shuts down cleanly.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  ExitNotification,
  HoverRequest,
  type Position,
} from "vscode-languageserver-protocol/node";
import { checkSource } from "../../src/compile.js";
import { qtrip } from "../support/cli.js";
import { serverForThisFile, startLsp } from "../support/lsp-client.js";

const inputs: Record<string, string> = {
  empty: "",
  "every kind of error": readFileSync(join(import.meta.dirname, "fixtures/every-error.qt"), "utf8"),
  "bytes that were not UTF-8": new TextDecoder("utf-8").decode(Uint8Array.from([0x77, 0x68, 0x65, 0x6e, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x80, 0x22, 0xe2, 0x82])),
  "lone surrogates": "when syscall \uD800 latency > 1s on comm \"\uDC00\"\n\uD83D",
  "control characters and NUL": "when\u0000syscall\u0007latency > 1s\u001b[31m\nwhen message \"\u0000\"\n",
  "a byte-order mark and CR line ends": "\uFEFFparam pid: int\rwhen syscall latency > 1s on pid $pid\r",
  "every character class": "$ $$ $1 # \" \\ \"\\q\" 0x 0x1g 1.2.3s 99999999999999999999999999ms > >= < , : = @ \u00e9 \u{1F600}",
  "only keywords": "when on and times within after as param case title channel port value",
  "unfinished everything": 'case "\ntitle\nchannel port\nparam :\nparam x: duration =\nwhen syscall futex,\nwhen io latency > 1s on\nwhen tick gap > $',
};

function positionsOf(text: string): Position[] {
  const positions: Position[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    for (let c = 0; c <= line.length; c++) positions.push({ line: i, character: c });
  });
  // And beyond the end, as a client with a stale view might ask.
  positions.push({ line: lines.length + 3, character: 0 }, { line: 0, character: 999 });
  return positions;
}

const lsp = serverForThisFile();

describe.each(Object.entries(inputs))("%s", (name, text) => {
  const uri = `file:///cases/${name.replace(/\W+/g, "-")}.qt`;
  test("diagnostics, then an answer to every request at every position", async () => {
    const published = await lsp.open(uri, text);
    // What `qtrip check` finds in that text, code for code; every case but the well-formed one has an error.
    expect(published.diagnostics.map((d) => d.code)).toEqual(checkSource(text, { fileName: "case.qt" }).diagnostics.map((d) => d.code));
    expect(published.diagnostics.some((d) => d.severity === 1)).toBe(name !== "a byte-order mark and CR line ends");
    const textDocument = { uri };
    for (const position of positionsOf(text)) {
      const range = { start: position, end: position };
      await Promise.all([
        lsp.connection.sendRequest(CompletionRequest.type, { textDocument, position }),
        lsp.connection.sendRequest(HoverRequest.type, { textDocument, position }),
        lsp.connection.sendRequest(DefinitionRequest.type, { textDocument, position }),
        lsp.connection.sendRequest(CodeActionRequest.type, { textDocument, range, context: { diagnostics: [] } }),
      ]);
    }
    expect(Array.isArray(await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument }))).toBe(true);
    expect(await lsp.connection.sendRequest(DocumentFormattingRequest.type, { textDocument, options: { tabSize: 2, insertSpaces: true } })).toBeInstanceOf(Array);
    // Typing the file one character at a time: every version gets its diagnostics.
    for (let end = 1; end <= Math.min(text.length, 120); end++) await lsp.change(uri, text.slice(0, end));
  });
});

test("requests on a document that is not open, and an unknown method, get answers", async () => {
  const textDocument = { uri: "file:///cases/never-opened.qt" };
  const position = { line: 0, character: 0 };
  expect(await lsp.connection.sendRequest(CompletionRequest.type, { textDocument, position })).toEqual([]);
  expect(await lsp.connection.sendRequest(HoverRequest.type, { textDocument, position })).toBeNull();
  expect(await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument })).toEqual([]);
  await expect(lsp.connection.sendRequest("qtrip/noSuchMethod", {})).rejects.toMatchObject({ code: -32601 });
});

describe("the command", () => {
  test("exits 1 when told to exit without a shutdown first (the protocol's rule)", async () => {
    const session = await startLsp();
    await session.connection.sendNotification(ExitNotification.type);
    expect(await new Promise((resolve) => session.server.on("exit", resolve))).toBe(1);
  });

  test("bad options are usage errors: exit 2, no stack trace", () => {
    const result = qtrip(["lsp", "--socket=1"], "/");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--socket=1'");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
