// The editor reads unfinished text with the compiler's own lexer (scanTokens):
// the tokens it sees, and where the cursor is for completion.
import { describe, expect, test } from "vitest";
import { scanTokens } from "../../src/syntax/lexer.js";
import { cursorContext } from "../../src/lsp/scan.js";

const kinds = (text: string) => scanTokens(text).map((t) => `${t.kind}:${t.text}`);

describe("scanTokens", () => {
  test("the lexer's tokens by kind, comments in place, offsets exclusive at the end", () => {
    expect(kinds('# c\nwhen syscall read, write latency >= 1.5s on comm "x" 3 times within 2m')).toEqual([
      "comment:# c",
      "word:when",
      "word:syscall",
      "word:read",
      "punct:,",
      "word:write",
      "word:latency",
      "punct:>=",
      "number:1.5s",
      "word:on",
      "word:comm",
      'string:"x"',
      "number:3",
      "word:times",
      "word:within",
      "number:2m",
    ]);
    expect(scanTokens("when  sys")[1]).toEqual({ kind: "word", text: "sys", start: 6, end: 9 });
  });

  test("unfinished text: an open string, a malformed number, a lone `$`, characters no token starts with", () => {
    expect(kinds('when message "I/O')).toEqual(["word:when", "word:message", 'string:"I/O']);
    expect(kinds("when tick gap > 0x")).toEqual(["word:when", "word:tick", "word:gap", "punct:>", "number:0x"]);
    expect(kinds("when vcpu stall > $")).toEqual(["word:when", "word:vcpu", "word:stall", "punct:>", "param:$"]);
    expect(kinds("when x @ \u{1F600} $lag")).toEqual(["word:when", "word:x", "punct:@", "punct:\u{1F600}", "param:$lag"]);
  });
});

describe("cursorContext", () => {
  const at = (marked: string) => cursorContext(marked.replace("|", ""), marked.indexOf("|"));
  const words = (marked: string) => at(marked).statement.map((t) => t.text);

  test("the statement before the cursor, from its keyword, across lines and comments", () => {
    expect(words("param a: int\nwhen syscall # the calls\n  read, |")).toEqual(["when", "syscall", "read", ","]);
    expect(words("|")).toEqual([]);
  });

  test("the word, number or $name being typed is the current token, cut at the cursor", () => {
    expect(at("when sys|call").current).toMatchObject({ kind: "word", text: "sys", start: 5, end: 8 });
    expect(at("when tick gap > 200|ms").current).toMatchObject({ kind: "number", text: "200" });
    expect(at("when tick gap > $|").current).toMatchObject({ kind: "param", text: "$" });
    expect(at("when tick gap > |").current).toBeUndefined();
  });

  test("in a comment or an open string there is nothing to complete; after a closed string there is", () => {
    expect(at("when x # a comm|").inText).toBe(true);
    expect(at('when message "I/O er|ror"').inText).toBe(true);
    expect(at('when message "I/O error"|').inText).toBe(false);
    expect(at('when message "I/O error" |').statement.map((t) => t.kind)).toEqual(["word", "word", "string"]);
  });
});
