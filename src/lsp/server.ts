// `qtrip lsp`: a Language Server Protocol server over stdio. Each request reads
// the document's analysis (the compiler's own parse and check, once per
// version); the files beside this one answer one kind of request each.
import { CodeActionKind, createConnection, TextDocuments, TextDocumentSyncKind, type Connection } from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { complete } from "./completion.js";
import { definition } from "./definition.js";
import { lspDiagnostics, quickFixes } from "./diagnostics.js";
import { analyse, forget, type Analysis } from "./document.js";
import { formatDocument } from "./formatting.js";
import { hover } from "./hover.js";
import { documentSymbols } from "./symbols.js";

export interface ServerOptions {
  version: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Starts serving; the connection ends the process when its client says `exit` or closes the stream. */
export function startServer(options: ServerOptions): Connection {
  const connection = createConnection(options.input ?? process.stdin, options.output ?? process.stdout);
  const documents = new TextDocuments(TextDocument);

  /** Runs `answer` on the open document's analysis; a request on a document that is not open gets `empty`. */
  function withDocument<T>(uri: string, empty: T, answer: (document: TextDocument, analysis: Analysis) => T): T {
    const document = documents.get(uri);
    return document ? answer(document, analyse(document)) : empty;
  }

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ["$", " ", ","] },
      hoverProvider: true,
      definitionProvider: true,
      documentFormattingProvider: true,
      documentSymbolProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: "qtrip", version: options.version },
  }));

  documents.onDidChangeContent(({ document }) => {
    try {
      const analysis = analyse(document);
      void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: lspDiagnostics(analysis) });
    } catch (e) {
      // A compiler bug must not take the editor's server down: say so and go on.
      connection.console.error(`qtrip: internal error checking ${document.uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  });
  documents.onDidClose(({ document }) => {
    forget(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onCompletion(({ textDocument, position }) =>
    withDocument(textDocument.uri, [], (document, analysis) => complete(document, analysis, document.offsetAt(position))),
  );
  connection.onHover(({ textDocument, position }) => withDocument(textDocument.uri, null, (document, analysis) => hover(analysis, document.offsetAt(position))));
  connection.onDefinition(({ textDocument, position }) =>
    withDocument(textDocument.uri, null, (document, analysis) => definition(analysis, document.offsetAt(position))),
  );
  connection.onDocumentSymbol(({ textDocument }) => withDocument(textDocument.uri, [], (_document, analysis) => documentSymbols(analysis)));
  connection.onCodeAction(({ textDocument, range }) => withDocument(textDocument.uri, [], (_document, analysis) => quickFixes(analysis, range)));
  connection.onDocumentFormatting(({ textDocument }) =>
    withDocument(textDocument.uri, Promise.resolve([]), (document, analysis) => formatDocument(document, analysis)),
  );

  documents.listen(connection);
  connection.listen();
  return connection;
}
