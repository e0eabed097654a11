// Every rule shown in the documentation compiles: a fenced block tagged ```qtrip in README.md,
// docs/ or grammar/ goes through the compiler in-process, as `qtrip compile` would take it.
// An untagged block that starts like a rule file is an error too, so a rule cannot dodge the check.
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { fences, pages, read } from "./markdown.js";

const blocks = pages().flatMap((page) =>
  fences(read(page))
    .filter((f) => f.tag === "qtrip")
    .map((f) => ({ name: `${page}:${f.line}`, text: f.text })),
);

describe("the documentation's rule blocks", () => {
  test("there are rule blocks to compile: README's example, the reference's, every condition's", () => {
    const where = new Set(blocks.map((b) => b.name.split(":")[0]));
    for (const page of ["README.md", "docs/conditions.md", "docs/language.md", "docs/getting-started.md"]) expect([...where]).toContain(page);
  });

  test.each(blocks)("$name compiles", ({ name, text }) => {
    const result = compileSource(text, { fileName: `${name.replace(/[/:]/g, "-")}.qt` });
    expect(result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
    expect(result.outputs?.guest).toMatch(/^#!\/usr\/bin\/stap/);
  });

  test("a block that starts like a rule file is tagged qtrip", () => {
    const untagged = pages().flatMap((page) =>
      fences(read(page))
        .filter((f) => f.tag === "" && /^(when |case "|param \w+: |title ")/.test(f.text))
        .map((f) => `${page}:${f.line}`),
    );
    expect(untagged).toEqual([]);
  });

  test("a broken rule fails the check", () => {
    expect(compileSource("when syscal latency > 1s\n", { fileName: "x.qt" }).diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});
