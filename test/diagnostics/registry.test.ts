// The diagnostic registry (src/diagnostics/registry.ts) is the one list of codes:
// every code the sources give is in it, every code in it is given, each has a UI
// case or says why not, and what is made from it (docs/diagnostics.md, qtrip explain)
// is current. SARIF's rules from it: test/diagnostics/sarif.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runQtrip } from "../support/cli.js";
import { error, warning, type Span } from "../../src/diagnostics/diagnostic.js";
import { diagnosticsPage } from "../../src/diagnostics/page.js";
import { CODES, DIAGNOSTICS, explainCode } from "../../src/diagnostics/registry.js";
import { repoRoot } from "../support/stap.js";

function sourceFiles(folder: string): string[] {
  return readdirSync(join(repoRoot, folder), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Code literals in src/ and stdlib/ outside the registry, by file. */
const used = new Map<string, string[]>();
for (const file of [...sourceFiles("src"), ...sourceFiles("stdlib")].filter((f) => !f.endsWith("src/diagnostics/registry.ts"))) {
  for (const [, code] of readFileSync(file, "utf8").matchAll(/["'`]([EW]\d{4})["'`]/g)) used.set(code!, [...(used.get(code!) ?? []), file]);
}

const uiDir = join(repoRoot, "test/check/ui");
const shown = new Set(
  readdirSync(uiDir)
    .filter((f) => f.endsWith(".stderr"))
    .flatMap((f) => [...readFileSync(join(uiDir, f), "utf8").matchAll(/ \[([EW]\d{4})\]$/gm)].map((m) => m[1]!)),
);

describe("the registry", () => {
  test("the scans see codes: the sources give some, the UI cases show some", () => {
    expect(used.get("E0146")?.some((f) => f.endsWith("src/check/conditions.ts"))).toBe(true);
    expect(used.get("E0142")?.some((f) => f.endsWith("stdlib/tables.ts"))).toBe(true);
    expect(shown.has("E0146")).toBe(true);
  });

  test("every code the sources give is in the registry", () => {
    expect([...used.keys()].filter((c) => !Object.hasOwn(DIAGNOSTICS, c)).sort()).toEqual([]);
  });

  test("every code in the registry is given by the sources", () => {
    expect(CODES.filter((c) => !used.has(c))).toEqual([]);
  });

  test("every code has a UI case in test/check/ui, or says why not; none does both", () => {
    expect(CODES.filter((c) => !shown.has(c) && !("noUiCase" in DIAGNOSTICS[c]))).toEqual([]);
    expect(CODES.filter((c) => shown.has(c) && "noUiCase" in DIAGNOSTICS[c])).toEqual([]);
  });

  test("codes are in numeric order, errors before warnings; titles are short and end without a full stop", () => {
    expect(CODES).toEqual([...CODES].sort());
    for (const code of CODES) {
      const { severity, title, explanation } = DIAGNOSTICS[code];
      expect(severity, code).toBe(code.startsWith("E") ? "error" : "warning");
      expect(title.length, code).toBeLessThanOrEqual(70);
      expect(title, code).not.toMatch(/\.$/);
      expect(explanation, code).toMatch(/[.)`]$/);
    }
  });

  test("error() and warning() take only the registry's codes, each of its own severity", () => {
    const span: Span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 1, line: 1, column: 2 } };
    expect(error("E0146", span, "x").severity).toBe("error");
    expect(warning("W0004", span, "x").severity).toBe("warning");
    // npm run typecheck fails if any of these compiles (an unused @ts-expect-error is an error).
    // @ts-expect-error: no such code
    error("E0199", span, "x");
    // @ts-expect-error: a warning's code is not an error's
    error("W0004", span, "x");
    // @ts-expect-error: an error's code is not a warning's
    warning("E0146", span, "x");
  });
});

test("docs/diagnostics.md is what npm run generate writes from the registry", () => {
  expect(readFileSync(join(repoRoot, "docs/diagnostics.md"), "utf8")).toBe(diagnosticsPage());
});

test("the reference links to the page instead of listing codes of its own", () => {
  const reference = readFileSync(join(repoRoot, "docs/language.md"), "utf8");
  expect(reference).toContain("](diagnostics.md)");
  expect(reference).not.toMatch(/^\| [EW]\d{4}/m);
});

describe("qtrip explain CODE", () => {
  const qtrip = (...argv: string[]) => runQtrip(argv);

  test("prints the registry's words and where the page explains the code, in either case", async () => {
    const r = await qtrip("explain", "e0146");
    expect(r).toEqual({ status: 0, stdout: explainCode("E0146"), stderr: "" });
    expect(r.stdout).toBe(`E0146 (error): threshold missing or not allowed\n\n${DIAGNOSTICS.E0146.explanation}\n\nSee docs/diagnostics.md#e0146.\n`);
    expect(diagnosticsPage()).toContain(`\n## E0146\n\n**threshold missing or not allowed** (error)\n\n${DIAGNOSTICS.E0146.explanation}\n`);
  });

  test("an unknown code is a usage error, with the likely one", async () => {
    expect(await qtrip("explain", "W0019")).toEqual({
      status: 2,
      stdout: "",
      stderr: "qtrip: W0019 is no diagnostic code of qtrip (did you mean 'W0009'?); docs/diagnostics.md lists them\n",
    });
  });
});
