// Where the cursor is, for completion. The text being typed is unfinished, and
// the parser's recovery drops an unfinished statement from the AST, so this
// splits the text before the cursor into rough tokens (enough to know the
// statement and the words before the cursor); everything else — diagnostics,
// hover, definitions, symbols — reads the compiler's AST.

export type TokenKind = "word" | "param" | "number" | "string" | "comment" | "punct";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?)|(\$[A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)|(\d[A-Za-z0-9_.]*)|(>=|[^\s])/g;
const KINDS: TokenKind[] = ["comment", "string", "param", "word", "number", "punct"];

export const STATEMENT_KEYWORDS = ["when", "param", "case", "title", "channel"];

export interface CursorContext {
  /** The statement's tokens before the cursor, its keyword first; empty before any statement. */
  statement: Token[];
  /** The token the cursor is in or just after (a word, `$name` or number being typed). */
  current?: Token;
  /** The cursor is inside a comment or a string: nothing to complete. */
  inText: boolean;
}

export function cursorContext(text: string, offset: number): CursorContext {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m && m.index < offset; m = TOKEN.exec(text)) {
    const group = m.slice(1).findIndex((g) => g !== undefined);
    tokens.push({ kind: KINDS[group], text: m[0], start: m.index, end: m.index + m[0].length });
  }
  let last = tokens.at(-1);
  if (last && (last.kind === "comment" || last.kind === "string") && offset <= last.end) {
    const closed = last.kind === "string" && last.text.length >= 2 && last.text.endsWith('"');
    // In a comment, or in a string: inside it, or at the end of one still open.
    if (last.end > offset || last.kind === "comment" || !closed) return { statement: [], inText: true };
  }
  // A word that runs past the cursor (typing inside it) counts up to the cursor.
  if (last && last.end > offset) {
    last = { ...last, text: last.text.slice(0, offset - last.start), end: offset };
    tokens[tokens.length - 1] = last;
  }
  let current: Token | undefined;
  if (last && last.end === offset && (last.kind === "word" || last.kind === "param" || last.kind === "number")) current = tokens.pop();
  const code = tokens.filter((t) => t.kind !== "comment");
  let start = code.length;
  while (start > 0 && !(code[start - 1].kind === "word" && STATEMENT_KEYWORDS.includes(code[start - 1].text))) start--;
  return { statement: start > 0 ? code.slice(start - 1) : [], ...(current ? { current } : {}), inText: false };
}
