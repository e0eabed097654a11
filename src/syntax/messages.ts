// Parser error messages in the user's words ("expected 'latency', found 'latncy'"),
// with a "did you mean" for misspelt keywords.
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { didYouMean } from "../diagnostics/suggest.js";
import * as t from "./tokens.js";

export const STATEMENT_STARTS = [t.Case, t.Title, t.Channel, t.Param, t.When];

export function describe(token: IToken): string {
  if (token.tokenType === EOF) return "the end of the file";
  if (token.tokenType === t.StringLiteral) return "a string";
  const image = token.image.length > 30 ? `${token.image.slice(0, 27)}...` : token.image;
  return `'${image}'`;
}

export function labelOf(type: TokenType): string {
  return type.LABEL ?? type.name;
}

export function oneOf(labels: string[]): string {
  const unique = [...new Set(labels)];
  return unique.length <= 1 ? (unique[0] ?? "") : `${unique.slice(0, -1).join(", ")} or ${unique.at(-1)}`;
}

/**
 * Chevrotain keeps only a message string per error: a "did you mean" travels in
 * it after a newline (messages are one line) and splitHint() takes it out again.
 */
const HINT_SEPARATOR = "\n";

export function splitHint(message: string): { message: string; hint?: string } {
  const [text, hint] = message.split(HINT_SEPARATOR);
  return hint ? { message: text, hint } : { message: text };
}

export function hintFor(actual: IToken, expected: TokenType[]): string | undefined {
  if (actual.tokenType !== t.Identifier) return undefined;
  const words = expected.filter((e) => t.keywords.includes(e)).map((e) => String(e.PATTERN).slice(1, -1));
  return didYouMean(actual.image, words);
}

function withHint(message: string, actual: IToken, expected: TokenType[]): string {
  const hint = hintFor(actual, expected);
  return hint ? `${message}${HINT_SEPARATOR}${hint}` : message;
}

export function splitStatements(tokens: IToken[]): IToken[][] {
  const statements: IToken[][] = [];
  for (const token of tokens) {
    if (statements.length === 0 || STATEMENT_STARTS.includes(token.tokenType)) statements.push([token]);
    else statements[statements.length - 1].push(token);
  }
  return statements;
}

export const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return withHint(`expected ${labelOf(expected)}, found ${describe(actual)}`, actual, [expected]);
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    const followers = [...STATEMENT_STARTS, t.On, t.And, t.Then, t.After, t.Counting, t.As, t.Times, t.Within, t.Allow];
    return withHint(`unexpected ${describe(firstRedundant)}: the statement should end here`, firstRedundant, followers);
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual }) {
    const firsts = expectedPathsPerAlt.flat().map((path) => path[0]);
    return withHint(`expected ${oneOf(firsts.map(labelOf))}, found ${describe(actual[0])}`, actual[0], firsts);
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    const firsts = expectedIterationPaths.map((path) => path[0]);
    return withHint(`expected ${oneOf(firsts.map(labelOf))}, found ${describe(actual[0])}`, actual[0], firsts);
  },
};

