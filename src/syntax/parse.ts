// Source text → AST and syntax diagnostics: lexing, parsing with recovery, AST building.
import { EOF, type IRecognitionException, type IToken } from "chevrotain";
import { error, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type { Comment, Item, RuleFile } from "./ast.js";
import { buildAst, tokenSpan } from "./build-ast.js";
import { lexer } from "./lexer.js";
import { describe, hintFor, labelOf, oneOf, splitStatements, splitHint, STATEMENT_STARTS } from "./messages.js";
import { parser } from "./parser.js";
import * as t from "./tokens.js";

const ALLOWANCE_LAST = "the allowance comes last in a rule: move 'allow …' after its filters and modifiers";
const FILTER_OR_MODIFIER_STARTS = [t.On, t.And, t.After, t.Counting, t.As, t.Integer, t.ParamRef];

/** Whether the statement's token at `index` starts a filter or a modifier written after `allow`. */
function filterOrModifierAfterAllowance(statement: IToken[], index: number): boolean {
  const allowAt = statement.findIndex((token) => token.tokenType === t.Allow);
  return allowAt >= 0 && index > allowAt && FILTER_OR_MODIFIER_STARTS.includes(statement[index].tokenType);
}

const EOF_TOKEN = { tokenType: EOF, startOffset: NaN, image: "" } as IToken;

/** Where to point for an error at `token`: chevrotain's EOF token has no position. */
function errorSpan(token: IToken, previous: IToken | undefined, source: string): Span {
  if (token.tokenType !== EOF && Number.isFinite(token.startOffset)) return tokenSpan(token);
  if (previous) {
    const end = tokenSpan(previous).end;
    return { start: end, end };
  }
  const lines = source.split("\n");
  const end = { offset: source.length, line: lines.length, column: lines[lines.length - 1].length + 1 };
  return { start: end, end };
}

export interface ParseResult {
  file: RuleFile;
  diagnostics: Diagnostic[];
}

export function parse(source: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = lexer.tokenize(source);
  for (const e of lexed.errors) {
    const span: Span = {
      start: { offset: e.offset, line: e.line ?? 1, column: e.column ?? 1 },
      end: { offset: e.offset + e.length, line: e.line ?? 1, column: (e.column ?? 1) + e.length },
    };
    const text = source.slice(e.offset, e.offset + e.length);
    diagnostics.push(
      error("E0001", span, `unexpected character${e.length > 1 ? "s" : ""} '${text}'`, {
        ...(text.startsWith("<") ? { suggestion: "comparisons are '>' and '>='" } : {}),
      }),
    );
  }
  const tokens = lexed.tokens.map((token) => {
    if (token.tokenType !== t.UnterminatedString) return token;
    diagnostics.push(
      error("E0002", tokenSpan(token), "unterminated string", {
        suggestion: 'close it with \'"\' on the same line; a string cannot span lines (write \\n)',
      }),
    );
    // Parse on as if it were closed, so that one typo gives one error.
    return { ...token, tokenType: t.StringLiteral, tokenTypeIdx: t.StringLiteral.tokenTypeIdx!, image: `${token.image}"` };
  });

  // Every statement starts with a keyword that cannot occur inside one, so the
  // token stream splits into statements; each is parsed on its own and one
  // mistake costs one diagnostic, not a cascade.
  const items: Item[] = [];
  const statements = splitStatements(tokens);
  for (const [n, statement] of statements.entries()) {
    const first = statement[0];
    if (!STATEMENT_STARTS.includes(first.tokenType)) {
      diagnostics.push(
        error("E0010", tokenSpan(first), `expected a statement (${oneOf(STATEMENT_STARTS.map(labelOf))}), found ${describe(first)}`, {
          ...(hintFor(first, STATEMENT_STARTS) ? { suggestion: hintFor(first, STATEMENT_STARTS) } : {}),
        }),
      );
      continue;
    }
    // The next statement's first token stays in view, so that a statement cut
    // short reads "found 'when'" rather than "found the end of the file".
    const next = statements[n + 1]?.[0];
    parser.input = next ? [...statement, next] : statement;
    const cst = parser.item();
    const [e] = (parser.errors as IRecognitionException[]).filter(
      (err) => !(err.name === "NotAllInputParsedException" && err.token === next),
    );
    if (e) {
      const index = statement.indexOf(e.token);
      const previous = index > 0 ? statement[index - 1] : statement.at(-1);
      const { message, hint } = splitHint(e.message);
      // A statement cut short is reported where it stops, not at the next statement.
      const span = e.token === next ? errorSpan(EOF_TOKEN, previous, source) : errorSpan(e.token, previous, source);
      const suggestion = hint ?? (filterOrModifierAfterAllowance(statement, index) ? ALLOWANCE_LAST : undefined);
      diagnostics.push(error("E0010", span, message, suggestion ? { suggestion } : {}));
      continue;
    }
    const built = buildAst(cst);
    items.push(built.item);
    diagnostics.push(...built.diagnostics);
  }

  const comments: Comment[] = (lexed.groups.comments ?? []).map((token: IToken) => ({
    kind: "Comment",
    span: tokenSpan(token),
    text: token.image.slice(1),
  }));
  const lines = source.split("\n");
  const file: RuleFile = {
    kind: "File",
    span: {
      start: { offset: 0, line: 1, column: 1 },
      end: { offset: source.length, line: lines.length, column: lines[lines.length - 1].length + 1 },
    },
    items,
    comments,
  };
  diagnostics.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return { file, diagnostics };
}

