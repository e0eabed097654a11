#!/usr/bin/env node
// Benchmark, not a test: the language server's start-up (spawn of `dist/qtrip
// lsp` to the initialize answer, and to the first diagnostics) and its cost per
// keystroke (didChange → publishDiagnostics round trip) on a realistic case
// file and on a 500-rule file, over stdio as an editor talks to it.
// Run: node test/bench/lsp.mjs (part of npm run bench).
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver-protocol/node";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const qtrip = join(root, "dist/qtrip");
const runs = Number(process.env.RUNS ?? 20);
const keystrokes = Number(process.env.KEYSTROKES ?? 100);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return `median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms, max ${sorted.at(-1).toFixed(2)} ms`;
};

async function session() {
  const server = spawn(qtrip, ["lsp"], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((done) => server.on("exit", done));
  const connection = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  const waiting = new Map();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => waiting.get(p.version)?.(p));
  connection.listen();
  const published = (version) => new Promise((done) => waiting.set(version, done));
  return {
    async initialize() {
      await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
      await connection.sendNotification(InitializedNotification.type, {});
    },
    async open(uri, text) {
      const done = published(1);
      await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "qtrip", version: 1, text } });
      return done;
    },
    /** One keystroke: an incremental change at `position`. */
    async type(uri, version, range, text) {
      const done = published(version);
      await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text }] });
      return done;
    },
    async close() {
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      await exited;
      connection.dispose();
    },
  };
}

function nodeBaseline() {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", "0"]);
    times.push(ms(start));
  }
  return times;
}

async function startUp() {
  const toInitialize = [];
  const toDiagnostics = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const s = await session();
    await s.initialize();
    toInitialize.push(ms(start));
    await s.open("file:///bench/rule.qt", "when syscall latency > 200ms on pid 1234\n");
    toDiagnostics.push(ms(start));
    await s.close();
  }
  return { toInitialize, toDiagnostics };
}

/** Types `word` letter by letter at the end of the first rule, then deletes it, until `keystrokes` changes are timed. */
async function perKeystroke(text) {
  const s = await session();
  await s.initialize();
  const uri = "file:///bench/case.qt";
  await s.open(uri, text);
  const lines = text.split("\n");
  const line = lines.findIndex((l) => l.startsWith("when"));
  const column = lines[line].length;
  const word = " as \"stall\"";
  const times = [];
  let version = 1;
  while (times.length < keystrokes) {
    for (let i = 0; i < word.length; i++) {
      const at = { line, character: column + i };
      const start = process.hrtime.bigint();
      await s.type(uri, ++version, { start: at, end: at }, word[i]);
      times.push(ms(start));
    }
    for (let i = word.length; i > 0; i--) {
      const range = { start: { line, character: column + i - 1 }, end: { line, character: column + i } };
      const start = process.hrtime.bigint();
      await s.type(uri, ++version, range, "");
      times.push(ms(start));
    }
  }
  await s.close();
  return times;
}

const examples = readdirSync(join(root, "examples")).sort().map((f) => readFileSync(join(root, "examples", f), "utf8"));
// A realistic case file: the futex example, a header and a dozen rules with comments.
const realistic = [examples.find((e) => e.includes("futex stall")), ...examples.map((e) => e.replace(/^(case|title).*\n/gm, ""))].join("\n");
const ruleCount = (t) => t.split("\n").filter((l) => l.startsWith("when")).length;
const conditions = [
  "syscall futex, epoll_wait latency > 2s on pid 1234",
  "syscall openat error ENOENT, EACCES on comm \"nova-api\" 10 times within 5s",
  "tick gap > 100ms on cpu 0 after 30s",
  "io latency > 5s on device \"vda\"",
  "signal SIGKILL on comm \"mysqld\"",
];
const big = Array.from({ length: 500 }, (_, i) => `# rule ${i + 1}\nwhen ${conditions[i % conditions.length]} as "rule ${i + 1}"\n`).join("");

console.log(`qtrip lsp, node ${process.version}; start-up: ${runs} runs; per keystroke: ${keystrokes} changes`);
console.log(`node -e 0                           ${stats(nodeBaseline())}`);
const { toInitialize, toDiagnostics } = await startUp();
console.log(`spawn → initialize answered         ${stats(toInitialize)}`);
console.log(`spawn → first publishDiagnostics    ${stats(toDiagnostics)}`);
const label = (t) => `keystroke, ${ruleCount(t)} rules (${t.length} B)`.padEnd(36);
console.log(`${label(realistic)}${stats(await perKeystroke(realistic))}`);
console.log(`${label(big)}${stats(await perKeystroke(big))}`);
