// Diagnostics over the protocol: published after didOpen and didChange, with
// the codes and ranges `qtrip check --format json` reports for the same file,
// and quick fixes for the suggestions that name a replacement.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { CodeActionRequest, type CodeAction, type Diagnostic } from "vscode-languageserver-protocol/node";
import { qtrip } from "../support/cli.js";
import { serverForThisFile } from "../support/lsp-client.js";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");
const dir = mkdtempSync(join(tmpdir(), "qtrip-lsp-"));

/** What `qtrip check --format json` says of `text`, as (code, 0-based range) — the LSP's terms. */
function checkJson(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  const { stdout } = qtrip(["check", "--format", "json", path], dir);
  const report = JSON.parse(stdout) as { diagnostics: { code: string; line: number; column: number; endLine: number; endColumn: number; severity: string; message: string; suggestion?: string }[] };
  return {
    uri: pathToFileURL(path).href,
    expected: report.diagnostics.map((d) => ({
      code: d.code,
      severity: d.severity === "error" ? 1 : 2,
      range: { start: { line: d.line - 1, character: d.column - 1 }, end: { line: d.endLine - 1, character: d.endColumn - 1 } },
      message: d.message,
      suggestion: d.suggestion,
    })),
  };
}

function asCheckReports(diagnostics: Diagnostic[]) {
  return diagnostics.map((d) => {
    const [message, ...more] = String(d.message).split("\n");
    const help = more.find((l) => l.startsWith("help: "));
    return { code: d.code, severity: d.severity, range: d.range, message, suggestion: help?.slice("help: ".length) };
  });
}

const lsp = serverForThisFile();

describe("published diagnostics are check's", () => {
  const files: Record<string, string> = {
    "every-error.qt": fixture("every-error.qt"),
    "ok.qt": "param pid: int\nwhen syscall futex latency > 2s on pid $pid\n",
    "warning.qt": "param pid: int\nwhen tick gap > 1s\n",
    "crlf.qt": "param pid: int\r\nwhen syscall readd latency > 2s on pid $pdi\r\n",
    "tabs-and-wide.qt": 'title "stalls \u{1F600} in ünïcode"\n\twhen\tsyscall\tfutx latency > 1s as "\u{1F600}"\n',
  };
  test.each(Object.entries(files))("%s, on open", async (name, text) => {
    const { uri, expected } = checkJson(name, text);
    const published = await lsp.open(uri, text);
    expect(asCheckReports(published.diagnostics)).toEqual(expected);
    if (name === "every-error.qt") expect(new Set(expected.map((d) => d.code)).size).toBeGreaterThan(20);
  });

  test("after each change, the version's own diagnostics", async () => {
    const edits = ["when syscall latency > 1s\n", "when syscall latency > 1s on pdi 3\n", "", "when syscal latency > 1s\nwhen tick gap > 2\n", fixture("every-error.qt")];
    const first = checkJson("changing.qt", edits[0]);
    await lsp.open(first.uri, edits[0]);
    for (const text of edits.slice(1)) {
      const { uri, expected } = checkJson("changing.qt", text);
      const published = await lsp.change(uri, text);
      expect(asCheckReports(published.diagnostics)).toEqual(expected);
    }
  });
});

describe("quick fixes", () => {
  const cases: [string, string, string][] = [
    ["a misspelt system call", "when syscall opnat latency > 1s\n", "openat"],
    ["a misspelt pattern word", "when syscall latncy > 200ms\n", "latency"],
    ["a misspelt condition", "when syscal latency > 1s\n", "syscall"],
    ["a misspelt filter", "when syscall latency > 1s on pdi 3\n", "pid"],
    ["a misspelt parameter", "param pid: int\nwhen syscall latency > 1s on pid $pdi\n", "$pid"],
    ["a misspelt errno", "when syscall openat error ENOENTT\n", "ENOENT"],
    ["a misspelt statement keyword", "chanel port 0x3ff value 0x1f\nwhen syscall latency > 1s\n", "channel"],
  ];
  test.each(cases)("%s: the fix replaces the word and the error goes", async (name, text, replacement) => {
    const uri = `file:///cases/fix-${name.replace(/\W+/g, "-")}.qt`;
    const published = await lsp.open(uri, text);
    const target = published.diagnostics.find((d) => d.severity === 1)!;
    const actions = (await lsp.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: target.range,
      context: { diagnostics: [target] },
    })) as CodeAction[];
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ kind: "quickfix", title: `Change to '${replacement}'`, diagnostics: [{ code: target.code, range: target.range }] });
    const [edit] = actions[0].edit!.changes![uri];
    expect(edit).toEqual({ range: target.range, newText: replacement });
    // Apply it as the editor would: the file then has no error.
    const lines = text.split("\n");
    const line = lines[edit.range.start.line];
    lines[edit.range.start.line] = line.slice(0, edit.range.start.character) + edit.newText + line.slice(edit.range.end.character);
    const fixed = await lsp.change(uri, lines.join("\n"));
    expect(fixed.diagnostics.filter((d) => d.severity === 1)).toEqual([]);
  });

  test("no fix where the suggestion names no single replacement", async () => {
    const uri = "file:///cases/no-fix.qt";
    const published = await lsp.open(uri, "when syscall latency > 200\n");
    expect(published.diagnostics[0].message).toContain("help: give its unit");
    const actions = await lsp.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: published.diagnostics[0].range,
      context: { diagnostics: published.diagnostics },
    });
    expect(actions).toEqual([]);
  });
});
