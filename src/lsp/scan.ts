// Where the cursor is, for completion. The text being typed is unfinished, and
// the parser's recovery drops an unfinished statement from the AST, so this
// reads the compiler's own tokens of the text before the cursor (enough to know
// the statement and the words before the cursor); everything else —
// diagnostics, hover, definitions, symbols — reads the compiler's AST.
import { scanTokens, type ScannedToken } from "./compiler.js";

export type Token = ScannedToken;

export const STATEMENT_KEYWORDS = ["when", "param", "case", "title", "channel"];

export interface CursorContext {
  /** The statement's tokens before the cursor, its keyword first; empty before any statement. */
  statement: Token[];
  /** The token the cursor is just after (a word, `$name` or number being typed). */
  current?: Token;
  /** The cursor is inside a comment or a string: nothing to complete. */
  inText: boolean;
}

export function cursorContext(text: string, offset: number): CursorContext {
  // Up to the cursor: a word the cursor is inside counts up to the cursor.
  const tokens = scanTokens(text.slice(0, offset));
  const last = tokens.at(-1);
  if (last && last.end === offset) {
    // In a comment, or at the end of a string still open.
    const closed = last.kind === "string" && last.text.length >= 2 && last.text.endsWith('"');
    if (last.kind === "comment" || (last.kind === "string" && !closed)) return { statement: [], inText: true };
  }
  let current: Token | undefined;
  if (last && last.end === offset && (last.kind === "word" || last.kind === "param" || last.kind === "number")) current = tokens.pop();
  const code = tokens.filter((t) => t.kind !== "comment");
  let start = code.length;
  while (start > 0 && !(code[start - 1].kind === "word" && STATEMENT_KEYWORDS.includes(code[start - 1].text))) start--;
  return { statement: start > 0 ? code.slice(start - 1) : [], ...(current ? { current } : {}), inText: false };
}
