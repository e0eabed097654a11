// The one walk of a condition's terms through its pattern (walkPattern): what
// the checker reports from it (E0141) and what the editor completes from it
// agree, because both read the same walk.
import { describe, expect, test } from "vitest";
import { walkPattern, type PatternTerm } from "../../src/check/pattern.js";
import { checkSource } from "../../src/compile.js";
import { nextAfter } from "../../src/lsp/pattern.js";
import { specs } from "../../stdlib/index.js";

const syscallError = specs.find((e) => e.id === "syscall-error")!.pattern;
const words = (...w: string[]): PatternTerm => ({ kind: "words", words: w });

describe("walkPattern", () => {
  test.each<[string, PatternTerm[], unknown]>([
    ["nothing yet: the terms run out at the first part", [], { kind: "end", part: 0, taken: [] }],
    ["the optional names left out", [words("error")], { kind: "end", part: 2, taken: [undefined, 0] }],
    ["names, the word, errnos", [words("read", "write"), words("error"), words("EIO")], { kind: "end", part: 3, taken: [0, 1, 2] }],
    ["a list still open takes the names part", [{ kind: "words", words: ["read"], open: true }], { kind: "end", part: 1, taken: [0] }],
    ["a string where the word must be", [words("read"), { kind: "string" }], { kind: "mismatch", part: 1, term: 1, taken: [0] }],
    ["a list where the word must be", [words("read"), words("error", "EIO")], { kind: "mismatch", part: 1, term: 1, taken: [0] }],
    ["terms after the whole pattern", [words("error"), words("EIO"), { kind: "string" }], { kind: "extra", term: 2, taken: [undefined, 0, 1] }],
  ])("%s", (_, terms, walk) => {
    expect(walkPattern(syscallError, terms)).toEqual(walk);
  });
});

describe("the checker and the editor read the same walk", () => {
  test.each<[string, PatternTerm[], string[]]>([
    ["syscall read", [words("read")], ["error", "latency"]],
    ["syscall read, write error EIO", [words("read", "write"), words("error"), words("EIO")], []],
    ["signal", [], []],
  ])("when %s: the word the checker says is missing is one completion offers", (condition, terms, offered) => {
    const head = condition.split(" ")[0];
    const next = nextAfter(head, terms);
    expect(next.words.sort()).toEqual(offered);
    const e0141 = checkSource(`when ${condition}\n`, { fileName: "r.qt" }).diagnostics.filter((d) => d.code === "E0141");
    const missing = e0141.map((d) => /^expected '(\w+)'/.exec(d.message)?.[1]);
    if (offered.length) expect(offered).toContain(missing[0]);
    else expect(missing.filter(Boolean)).toEqual([]);
  });

  test("a name list still open offers names of its table, and the checker binds the list it closes", () => {
    expect(nextAfter("syscall", [{ kind: "words", words: ["read"], open: true }])).toEqual({ tables: ["syscall"], words: [] });
    const { checked } = checkSource("when syscall read, write error EIO\n", { fileName: "r.qt" });
    expect(checked!.rules[0].args.names.syscalls.map((n) => n.name)).toEqual(["read", "write"]);
  });
});
