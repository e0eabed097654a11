// The one lexer instance, and the one tokenizer: the parser reads its tokens,
// and so does the editor's completion (scanTokens), on text still being typed.
import { Lexer, type TokenType } from "chevrotain";
import * as t from "./tokens.js";

// safeMode skips the first-character optimisation: its analysis of every token
// pattern costs more at start-up (~9 ms) than it saves on files of a few lines.
export const lexer = new Lexer(t.allTokens, { safeMode: true, skipValidations: true, positionTracking: "full" });

export type TokenKind = "word" | "param" | "number" | "string" | "comment" | "punct";

export interface ScannedToken {
  kind: TokenKind;
  text: string;
  start: number;
  /** Exclusive. */
  end: number;
}

const KINDS = new Map<TokenType, TokenKind>([
  ...t.keywords.map((k) => [k, "word"] as const),
  [t.Identifier, "word"],
  [t.ParamRef, "param"],
  [t.Duration, "number"],
  [t.Integer, "number"],
  [t.Percent, "number"],
  [t.MalformedNumber, "number"],
  [t.StringLiteral, "string"],
  [t.UnterminatedString, "string"],
  [t.Comment, "comment"],
]);

/**
 * Every token of a text in order, comments included, for readers of unfinished text (the
 * editor's completion): the lexer's tokens, and each character no token starts with as
 * punctuation, but a `$` not yet followed by a name, which is a parameter being typed.
 */
export function scanTokens(text: string): ScannedToken[] {
  const { tokens, groups, errors } = lexer.tokenize(text);
  const out: ScannedToken[] = [...tokens, ...(groups.comments ?? [])].map((token) => ({
    kind: KINDS.get(token.tokenType) ?? "punct",
    text: token.image,
    start: token.startOffset,
    end: token.startOffset + token.image.length,
  }));
  for (const { offset, length } of errors) {
    for (let at = offset; at < offset + length; ) {
      const char = String.fromCodePoint(text.codePointAt(at)!);
      out.push({ kind: char === "$" ? "param" : "punct", text: char, start: at, end: at + char.length });
      at += char.length;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
