import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "../../src/syntax/parse.js";
import { cstDts } from "../../src/syntax/generate-cst-dts.js";
import { repoRoot } from "../support/stap.js";

const languageDir = join(repoRoot, "test/fixtures/language");
const languageExamples = readdirSync(languageDir).filter((f) => f.endsWith(".qt"));

describe("parser", () => {
  test.each(languageExamples)("LANGUAGE.md %s parses without diagnostics", (name) => {
    const { file, diagnostics } = parse(readFileSync(join(languageDir, name), "utf8"));
    expect(diagnostics).toEqual([]);
    expect(file.items.some((i) => i.kind === "Rule")).toBe(true);
  });

  test("a rule's parts land in the AST with spans", () => {
    const source = 'param pid: int\nwhen syscall futex, epoll_wait latency > 2s on pid $pid and comm "x" 3 times within 1m after 30s as "l"';
    const { file, diagnostics } = parse(source);
    expect(diagnostics).toEqual([]);
    const rule = file.items[1];
    if (rule.kind !== "Rule") throw new Error("expected a rule");
    expect(rule.condition.head.name).toBe("syscall");
    expect(rule.condition.terms.map((t) => (t.kind === "WordGroup" ? t.words.map((w) => w.name) : t.value))).toEqual([
      ["futex", "epoll_wait"],
      ["latency"],
    ]);
    expect(rule.condition.comparison).toMatchObject({ op: ">", value: { kind: "Duration", nanoseconds: 2_000_000_000n } });
    expect(rule.filters.map((f) => f.attribute.name)).toEqual(["pid", "comm"]);
    expect(rule.modifiers.map((m) => m.kind)).toEqual(["Count", "After", "Label"]);
    expect(source.slice(rule.span.start.offset, rule.span.end.offset)).toBe(source.split("\n")[1]);
    expect(rule.condition.head.span.start).toEqual({ offset: 20, line: 2, column: 6 });
  });

  test("a share of time: the percentage as an Int written with its '%', the window after `within`; a sequence's window stays its own", () => {
    const { file, diagnostics } = parse("when steal >= 20% within 1s on cpu 1\nwhen signal SIGUSR1 then steal > 5% within 500ms within 1m");
    expect(diagnostics).toEqual([]);
    const [one, two] = file.items;
    if (one.kind !== "Rule" || two.kind !== "Rule") throw new Error("expected rules");
    expect(one.condition.comparison).toMatchObject({ op: ">=", value: { kind: "Int", value: 20n, text: "20%" }, within: { kind: "Duration", nanoseconds: 1_000_000_000n } });
    expect(one.condition.comparison!.span.end.column).toBe(28); // to the window's end
    expect(two.sequels[0]!.condition!.comparison).toMatchObject({ value: { text: "5%" }, within: { text: "500ms" } });
    expect(two.sequels[0]!.window).toMatchObject({ kind: "Duration", text: "1m" });
    // A percentage is nothing else: not a threshold on its own, not a filter's value.
    expect(parse("when steal > 20%").diagnostics.map((d) => d.code)).toEqual(["E0010"]);
    expect(parse("when tick gap > 1s on cpu 5%").diagnostics.map((d) => d.code)).toEqual(["E0010"]);
  });

  test("'times' is a system call name inside a condition and a keyword after a count", () => {
    const { file, diagnostics } = parse("when syscall times latency > 1s 2 times within 5s");
    expect(diagnostics).toEqual([]);
    const rule = file.items[0];
    if (rule.kind !== "Rule") throw new Error("expected a rule");
    expect(rule.condition.terms[0]).toMatchObject({ kind: "WordGroup", words: [{ name: "times" }] });
    expect(rule.modifiers[0]).toMatchObject({ kind: "Count", times: { value: 2n } });
  });

  test.each([
    ["1.5s", 1_500_000_000n],
    ["200ms", 200_000_000n],
    ["2m", 120_000_000_000n],
    ["1h", 3_600_000_000_000n],
    ["7us", 7_000n],
    ["3ns", 3n],
    ["0.001ms", 1_000n],
  ])("duration %s is %i ns", (text, ns) => {
    const { file } = parse(`when syscall latency > ${text}`);
    const rule = file.items[0];
    if (rule.kind !== "Rule") throw new Error("expected a rule");
    expect(rule.condition.comparison?.value).toMatchObject({ kind: "Duration", nanoseconds: ns });
  });

  test("an allowance ends the rule: its codes as names, the rule's span to its last code", () => {
    const source = 'when syscall futex latency > 2s on pid 1 after 30s as "l" allow W0004, E0140, futex';
    const { file, diagnostics } = parse(source);
    expect(diagnostics).toEqual([]);
    const rule = file.items[0];
    if (rule.kind !== "Rule") throw new Error("expected a rule");
    expect(rule.modifiers.map((m) => m.kind)).toEqual(["After", "Label"]);
    expect(rule.allowance?.codes.map((c) => c.name)).toEqual(["W0004", "E0140", "futex"]);
    expect(source.slice(rule.allowance!.span.start.offset, rule.allowance!.span.end.offset)).toBe("allow W0004, E0140, futex");
    expect(rule.span.end.offset).toBe(source.length);
    expect(parse("when event oops").file.items[0]).not.toHaveProperty("allowance");
  });

  test.each([
    ["when event oops allow", "1:22", "expected a name, found the end of the file", undefined],
    ["when event oops allow W0004 W0005", "1:29", "unexpected 'W0005': the statement should end here", undefined],
    ['when event oops allow W0004 as "x"', "1:29", "unexpected 'as': the statement should end here", "the allowance comes last in a rule: move 'allow …' after its filters and modifiers"],
    ["when syscall futex latency > 1s alow W0004", "1:33", "unexpected 'alow': the statement should end here", "did you mean 'allow'?"],
  ])("%s is a syntax error", (source, at, message, suggestion) => {
    const [d, ...more] = parse(source).diagnostics;
    expect(more).toEqual([]);
    expect([`${d.span.start.line}:${d.span.start.column}`, d.code, d.message, d.suggestion]).toEqual([at, "E0010", message, suggestion]);
  });

  test("'allow' is reserved: not a parameter name", () => {
    expect(parse("param allow: int").diagnostics.map((d) => d.code)).toEqual(["E0010"]);
  });

  test("strings decode their escapes", () => {
    const { file, diagnostics } = parse('case "a\\"b\\\\c\\nd\\te"');
    expect(diagnostics).toEqual([]);
    expect(file.items[0]).toMatchObject({ kind: "Case", id: { value: 'a"b\\c\nd\te' } });
  });

  test("comments are kept for the formatter", () => {
    const { file } = parse("# top\nwhen syscall latency > 1s # trailing\n");
    expect(file.comments.map((c) => c.text)).toEqual([" top", " trailing"]);
  });

  test("one mistake per statement: later statements are still parsed", () => {
    const { file, diagnostics } = parse("when io latency >\nwhen syscall latency > 1s\nchannel prot 1 value 2\ncase \"x\"");
    expect(diagnostics.map((d) => `${d.span.start.line}:${d.span.start.column}`)).toEqual(["1:18", "3:9"]);
    expect(file.items.map((i) => i.kind)).toEqual(["Rule", "Case"]);
  });

  test("the committed CST typings match the parser (npm run generate)", () => {
    expect(readFileSync(join(repoRoot, "src/syntax/cst.d.ts"), "utf8")).toBe(cstDts());
  });
});

describe("grammar validation (skipped at run time for start-up speed)", () => {
  test("chevrotain's lexer and parser validations pass", async () => {
    const { Lexer } = await import("chevrotain");
    const { allTokens } = await import("../../src/syntax/tokens.js");
    expect(() => new Lexer(allTokens, { positionTracking: "full" })).not.toThrow();
    process.env.QTRIP_VALIDATE_GRAMMAR = "1";
    try {
      const { RuleParser } = await import("../../src/syntax/parser.js");
      expect(() => new RuleParser()).not.toThrow();
    } finally {
      delete process.env.QTRIP_VALIDATE_GRAMMAR;
    }
  });
});
