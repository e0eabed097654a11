// The prettier plugin for .qt rule files: one statement per line in canonical
// form, comments kept. Own-line comments stay where they are, end-of-line
// comments stay at the end of their statement's line, and a comment inside a
// statement that spans lines moves to the line above it. Blank lines between
// statements are kept (at most one).
import type { AstPath, Doc, Parser, Plugin, Printer, SupportLanguage } from "prettier";
import { doc } from "prettier";
import type * as ast from "../syntax/ast.js";
import { parse } from "../syntax/parse.js";
import { statementText } from "./print-statement.js";

const { hardline, join } = doc.builders;

type Node = ast.RuleFile | ast.Item | ast.Comment;
interface AttachedComment extends ast.Comment {
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
}

export class FormatSyntaxError extends Error {
  constructor(
    message: string,
    readonly loc: { start: { line: number; column: number } },
  ) {
    super(message);
  }
}

const locStart = (node: Node) => node.span.start.offset;
const locEnd = (node: Node) => node.span.end.offset;

export const languages: SupportLanguage[] = [
  { name: "qtrip", parsers: ["qtrip"], extensions: [".qt"], vscodeLanguageIds: ["qtrip"] },
];

export const parsers: Record<string, Parser<Node>> = {
  qtrip: {
    astFormat: "qtrip-ast",
    locStart,
    locEnd,
    parse(text) {
      const { file, diagnostics } = parse(text);
      const first = diagnostics.find((d) => d.severity === "error");
      if (first) throw new FormatSyntaxError(first.message, { start: { line: first.span.start.line, column: first.span.start.column } });
      return file;
    },
  },
};

/** Whether the line after the one where `offset` is ends a paragraph (is blank). */
function blankLineAfter(text: string, offset: number): boolean {
  const lineEnd = text.indexOf("\n", offset);
  if (lineEnd === -1) return false;
  const nextEnd = text.indexOf("\n", lineEnd + 1);
  return text.slice(lineEnd + 1, nextEnd === -1 ? text.length : nextEnd).trim() === "";
}

function commentText(comment: ast.Comment): string {
  return `#${comment.text.trimEnd()}`;
}

/** Comments inside a statement (neither before nor after it): printed on the lines above it. */
function danglingComments(node: { comments?: AttachedComment[] }): Doc[] {
  return (node.comments ?? [])
    .filter((c) => !c.leading && !c.trailing)
    .map((c) => {
      c.printed = true;
      return [commentText(c), hardline];
    });
}

export const printers: Record<string, Printer<Node>> = {
  "qtrip-ast": {
    print(path: AstPath<Node>, options, print): Doc {
      const node = path.node;
      if (node.kind === "Comment") return commentText(node);
      if (node.kind !== "File") return [...danglingComments(node as never), statementText(node)];
      const text = options.originalText;
      const items = path.map((item, index) => {
        const printed = print();
        const next = node.items[index + 1];
        // Keep one blank line where the source had any before the next statement (or its leading comment).
        const gap = next && blankLineAfter(text, locEnd(item.node as ast.Item)) ? hardline : "";
        return [printed, gap];
      }, "items");
      return [...danglingComments(node as never), join(hardline, items), hardline];
    },
    printComment(path) {
      return commentText(path.node as ast.Comment);
    },
    canAttachComment(node) {
      return node.kind !== "File" && node.kind !== "Comment";
    },
    isBlockComment() {
      return false;
    },
    getVisitorKeys(node) {
      return node.kind === "File" ? ["items"] : [];
    },
  },
};

export const plugin: Plugin<Node> = { languages, parsers, printers };
export default plugin;
