// The VS Code client: starts `qtrip lsp` (the command in qtrip.server.path)
// for .qt files and restarts it when that setting changes.
import { workspace, type ExtensionContext } from "vscode";
import { LanguageClient, type Executable } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverCommand(): Executable {
  const command = workspace.getConfiguration("qtrip").get<string>("server.path") || "qtrip";
  return { command, args: ["lsp"] };
}

async function start(): Promise<void> {
  const server = serverCommand();
  client = new LanguageClient("qtrip", "qtrip", { run: server, debug: server }, { documentSelector: [{ language: "qtrip" }] });
  await client.start();
}

export async function activate(context: ExtensionContext): Promise<void> {
  context.subscriptions.push(
    workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("qtrip.server.path")) return;
      await client?.stop();
      await start();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
