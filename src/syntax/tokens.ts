// The tokens of the qtrip rule language (docs/language.md).
// Keywords are reserved words of the file structure; the words of conditions
// (syscall, latency, …) and filter attributes (pid, comm, …) are plain
// identifiers that the checker matches against the condition specs, so that
// a new condition needs no change here.
import { createToken, Lexer, type TokenType } from "chevrotain";

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
});

function keyword(word: string): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
  });
}

export const Case = keyword("case");
export const Title = keyword("title");
export const Channel = keyword("channel");
export const Port = keyword("port");
export const Value = keyword("value");
export const Param = keyword("param");
export const When = keyword("when");
export const On = keyword("on");
export const And = keyword("and");
export const Times = keyword("times");
export const Within = keyword("within");
export const After = keyword("after");
export const Counting = keyword("counting");
export const Pauses = keyword("pauses");
export const As = keyword("as");
export const Allow = keyword("allow");
export const Then = keyword("then");

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});

export const Comment = createToken({
  name: "Comment",
  pattern: /#[^\n]*/,
  group: "comments",
});

// A duration is a number and a unit with no space: 200ms, 1.5s, 2m.
export const Duration = createToken({
  name: "Duration",
  pattern: /[0-9]+(?:\.[0-9]+)?(?:ns|us|ms|s|m|h)(?![A-Za-z0-9_.])/,
  label: "a duration",
});
// A share of time, `> 20% within 1s` (a whole number of percent): only there.
export const Percent = createToken({
  name: "Percent",
  pattern: /[0-9]+%/,
  label: "a percentage",
});
export const Integer = createToken({
  name: "Integer",
  pattern: /(?:0[xX][0-9a-fA-F]+|[0-9]+)(?![A-Za-z0-9_.])/,
  label: "a number",
});
// Anything else that starts with a digit (200mss, 1.5, 0xZZ) is one malformed
// number, reported as such instead of as a number followed by a stray name.
export const MalformedNumber = createToken({
  name: "MalformedNumber",
  pattern: /[0-9][A-Za-z0-9_.]*/,
  label: "a number",
});

export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\n]|\\[^\n])*"/,
  label: "a string",
});
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n]|\\[^\n])*\\?/,
  label: "a string",
});

export const ParamRef = createToken({
  name: "ParamRef",
  pattern: /\$[A-Za-z_][A-Za-z0-9_]*/,
  label: "a $parameter",
});

export const GreaterEqual = createToken({ name: "GreaterEqual", pattern: />=/, label: "'>='" });
export const Greater = createToken({ name: "Greater", pattern: />/, label: "'>'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });

export const keywords = [Case, Title, Channel, Port, Value, Param, When, On, And, Then, Times, Within, After, Counting, Pauses, As, Allow];

// Order matters: keywords before Identifier; Duration and Percent before Integer before MalformedNumber;
// a terminated string before an unterminated one.
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  ...keywords,
  Identifier,
  Duration,
  Percent,
  Integer,
  MalformedNumber,
  StringLiteral,
  UnterminatedString,
  ParamRef,
  GreaterEqual,
  Greater,
  Equals,
  Colon,
  Comma,
];
