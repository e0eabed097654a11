// An LSP client for tests: spawns the built `dist/qtrip lsp` and talks to it
// over stdio with the protocol's JSON-RPC framing, through the protocol
// library's own client side, as an editor would.
import { spawn, type ChildProcess } from "node:child_process";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
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
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { afterAll, beforeAll, expect } from "vitest";
import { qtripBin } from "./cli.js";

export interface LspSession {
  connection: ProtocolConnection;
  server: ChildProcess;
  initialized: InitializeResult;
  /** What the server wrote on stderr (it must stay quiet). */
  stderr: () => string;
  /** Opens a document and resolves to the diagnostics published for it. */
  open(uri: string, text: string): Promise<PublishDiagnosticsParams>;
  /** Replaces a document's text (a full change) and resolves to the new diagnostics. */
  change(uri: string, text: string): Promise<PublishDiagnosticsParams>;
  /** shutdown, exit; resolves to the server's exit status. */
  close(): Promise<number | null>;
}

export function fileUri(name: string): string {
  return pathToFileURL(join("/work/cases", name)).href;
}

export async function startLsp(command: string[] = [qtripBin, "lsp"]): Promise<LspSession> {
  const server = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  server.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  const connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  // Diagnostics arrive as notifications: each wait is for a document's given version.
  const waiting = new Map<string, (params: PublishDiagnosticsParams) => void>();
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    const key = `${params.uri}@${params.version}`;
    waiting.get(key)?.(params);
    waiting.delete(key);
  });
  connection.listen();
  const initialized = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    workspaceFolders: null,
  });
  await connection.sendNotification(InitializedNotification.type, {});
  const versions = new Map<string, number>();
  const published = (uri: string, version: number) =>
    new Promise<PublishDiagnosticsParams>((resolve) => waiting.set(`${uri}@${version}`, resolve));
  return {
    connection,
    server,
    initialized,
    stderr: () => stderr,
    async open(uri, text) {
      versions.set(uri, 1);
      const result = published(uri, 1);
      await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "qtrip", version: 1, text } });
      return result;
    },
    async change(uri, text) {
      const version = (versions.get(uri) ?? 1) + 1;
      versions.set(uri, version);
      const result = published(uri, version);
      await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
      return result;
    },
    async close() {
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}

/**
 * One server for a whole test file: started before its tests; at the end it must
 * exit with 0 and have written nothing on stderr. The session's fields are read
 * through the returned object once the server runs.
 */
export function serverForThisFile(): LspSession {
  let session: LspSession | undefined;
  beforeAll(async () => {
    session = await startLsp();
  });
  afterAll(async () => {
    expect(await session!.close()).toBe(0);
    expect(session!.stderr()).toBe("");
  });
  return new Proxy({} as LspSession, {
    get(_target, key: keyof LspSession) {
      const value = session![key];
      return typeof value === "function" ? value.bind(session) : value;
    },
  });
}
