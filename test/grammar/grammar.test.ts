// grammar/ is generated from the parser and the condition specs: it must match
// them (run `npm run generate` after changing either). The TextMate grammar is
// exercised with the engine editors use (vscode-textmate with Oniguruma).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";
import { ebnf, railroadHtml } from "../../src/syntax/grammar-reference.js";
import { textMateGrammar } from "../../src/syntax/textmate.js";
import { repoRoot } from "../support/stap.js";

const committed = (path: string) => readFileSync(join(repoRoot, path), "utf8");

describe("the checked-in grammar reference matches the parser", () => {
  test("grammar/qtrip.ebnf", () => expect(committed("grammar/qtrip.ebnf")).toBe(ebnf()));
  test("grammar/railroad.html", () => expect(committed("grammar/railroad.html")).toBe(railroadHtml()));
  test("grammar/qtrip.tmLanguage.json", () => expect(JSON.parse(committed("grammar/qtrip.tmLanguage.json"))).toEqual(textMateGrammar()));

  test("the railroad page is self-contained", () => {
    const html = committed("grammar/railroad.html");
    expect(html).not.toMatch(/<script src=|<link rel='stylesheet'|https?:\/\/unpkg/);
    expect(html).toContain('"name": "countModifier"');
  });
});

describe("TextMate grammar", () => {
  let grammar: textmate.IGrammar;
  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async () => textmate.parseRawGrammar(committed("grammar/qtrip.tmLanguage.json"), "qtrip.tmLanguage.json"),
    });
    grammar = (await registry.loadGrammar("source.qtrip"))!;
  });

  /** Each token's text with its most specific scope. */
  function scopes(line: string): [string, string][] {
    const { tokens } = grammar.tokenizeLine(line, textmate.INITIAL);
    return tokens
      .map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes.at(-1)!] as [string, string])
      .filter(([text]) => text.trim() !== "");
  }

  test.each([
    ["when", "keyword.control.statement.qtrip"],
    ["syscall", "support.function.condition.qtrip"],
    ["latency", "support.function.condition.qtrip"],
    [">", "keyword.operator.comparison.qtrip"],
    ["200", "constant.numeric.duration.qtrip"],
    ["ms", "keyword.other.unit.qtrip"],
    ["on", "keyword.other.qtrip"],
    ["pid", "entity.other.attribute-name.filter.qtrip"],
    ["$pid", "variable.other.parameter.qtrip"],
    ["as", "keyword.other.qtrip"],
    ['"', "string.quoted.double.qtrip"],
    ["# why", "comment.line.number-sign.qtrip"],
  ])("a rule line: %s is %s", (text, scope) => {
    const tokens = scopes('when syscall latency > 200ms on pid $pid as "stall" # why');
    expect(tokens).toContainEqual([text, scope]);
  });

  test("headers, numbers, escapes, names", () => {
    expect(scopes("channel port 0x3ff value 0x1f")).toEqual([
      ["channel", "keyword.control.statement.qtrip"],
      ["port", "keyword.other.qtrip"],
      ["0x3ff", "constant.numeric.integer.qtrip"],
      ["value", "keyword.other.qtrip"],
      ["0x1f", "constant.numeric.integer.qtrip"],
    ]);
    expect(scopes("param lag: duration = 20ms")).toContainEqual(["duration", "storage.type.qtrip"]);
    expect(scopes('case "a\\"b\\q"')).toEqual(
      expect.arrayContaining([
        ['\\"', "constant.character.escape.qtrip"],
        ["\\q", "invalid.illegal.escape.qtrip"],
      ]),
    );
    expect(scopes('when message "at 100%% took %u ns" > 1ms')).toEqual(
      expect.arrayContaining([
        ["%%", "constant.other.placeholder.qtrip"],
        ["%u", "constant.other.placeholder.qtrip"],
        ["1", "constant.numeric.duration.qtrip"],
      ]),
    );
    expect(scopes("when signal SIGKILL")).toContainEqual(["SIGKILL", "support.constant.name.qtrip"]);
    expect(scopes("when syscall futex latency > 1s allow W0004, E0140")).toEqual(
      expect.arrayContaining([
        ["allow", "keyword.other.qtrip"],
        ["W0004", "constant.other.diagnostic-code.qtrip"],
        ["E0140", "constant.other.diagnostic-code.qtrip"],
      ]),
    );
    expect(scopes("when event hung_task 3 times within 1m")).toEqual(
      expect.arrayContaining([
        ["hung_task", "support.constant.event.qtrip"],
        ["3", "constant.numeric.integer.qtrip"],
        ["times", "keyword.other.qtrip"],
        ["1", "constant.numeric.duration.qtrip"],
      ]),
    );
  });
});
