// The grammar reference, generated from the parser itself: an EBNF text and
// chevrotain's railroad diagrams as one self-contained HTML page. Written by
// `npm run generate` into grammar/; a test fails when they are stale.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createSyntaxDiagramsCode, type ISerializedGast, type TokenType } from "chevrotain";
import { specs } from "../../stdlib/index.js";
import { parser } from "./parser.js";
import { allTokens } from "./tokens.js";

type Gast = ISerializedGast & { name?: string; label?: string; definition?: Gast[] };

function sequence(items: Gast[] | undefined): string {
  return (items ?? []).map(expression).join(" ");
}

function expression(node: Gast): string {
  switch (node.type) {
    case "Terminal":
      return node.label?.startsWith("'") ? `"${node.label.slice(1, -1)}"` : node.name!;
    case "NonTerminal":
      return node.name!;
    case "Alternative":
      return sequence(node.definition);
    case "Option":
      return `[ ${sequence(node.definition)} ]`;
    case "Repetition":
      return `{ ${sequence(node.definition)} }`;
    case "RepetitionMandatory":
      return `${sequence(node.definition)} { ${sequence(node.definition)} }`;
    case "Alternation":
      return `( ${(node.definition ?? []).map(expression).join(" | ")} )`;
    default:
      throw new Error(`unexpected grammar node ${node.type}`);
  }
}

function tokenLine(token: TokenType): string {
  const pattern = token.PATTERN as RegExp;
  return `${token.name.padEnd(20)} = /${pattern.source}/ ;`;
}

export function ebnf(): string {
  const rules = parser.getSerializedGastProductions() as Gast[];
  const lines = [
    "(* The qtrip rule language: generated from src/syntax/parser.ts by `npm run generate`. Do not edit. *)",
    "(* Reference: docs/language.md. Diagrams: grammar/railroad.html. *)",
    "",
  ];
  for (const rule of rules) {
    const body = rule.definition?.length === 1 && rule.definition[0].type === "Alternation"
      ? (rule.definition[0].definition ?? []).map(expression).join("\n" + " ".repeat(rule.name!.length + 1) + "| ")
      : sequence(rule.definition);
    lines.push(`${rule.name} = ${body} ;`);
  }
  lines.push("", "(* Tokens, in the order the lexer tries them; WhiteSpace and Comment are skipped. *)");
  for (const token of allTokens) lines.push(tokenLine(token));
  lines.push(
    "",
    "(* Conditions: a condition is a head word, word groups and strings, and an optional comparison;",
    "   which shapes are valid is the condition specs' (stdlib/), checked after parsing: *)",
    ...specs.map((e) => `(*   ${e.syntax.padEnd(48)} ${e.id} *)`),
  );
  return `${lines.join("\n")}\n`;
}

/** chevrotain's diagrams page with its scripts and stylesheet inlined: it works offline. */
export function railroadHtml(): string {
  // chevrotain's exports hide its files: find the package where Node would look for it.
  const searched = createRequire(import.meta.url).resolve.paths("chevrotain") ?? [];
  const diagrams = searched.map((dir) => join(dir, "chevrotain", "diagrams")).find((dir) => existsSync(dir));
  if (!diagrams) throw new Error("cannot find chevrotain's diagrams/ folder");
  const page = createSyntaxDiagramsCode(parser.getSerializedGastProductions(), { resourceBase: "RESOURCE/", css: "RESOURCE/diagrams.css" });
  return page
    .replace(/<link rel='stylesheet' href='RESOURCE\/([^']+)'>/g, (_, file: string) => `<style>\n${readFileSync(join(diagrams, file), "utf8")}</style>`)
    .replace(/<script src='RESOURCE\/([^']+)'><\/script>/g, (_, file: string) => `<script>\n${readFileSync(join(diagrams, file), "utf8")}</script>`)
    .replace("<!-- This is a generated file -->", "<!-- The qtrip rule language: generated from src/syntax/parser.ts by `npm run generate`. Do not edit. -->")
    .replace("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\">\n<title>qtrip rule language: syntax diagrams</title>");
}
