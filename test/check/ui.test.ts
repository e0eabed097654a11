// Diagnostics as the user sees them, rustc-style UI tests: each ui/NAME.qt sits
// beside ui/NAME.stderr, the exact text `qtrip check NAME.qt` prints to stderr
// when run in ui/ (the built CLI, dist/qtrip: `npm run build` first; npm test
// does). The exit status follows from it: 1 if it holds an error, else 0.
// A first line `# args: ARGS` gives the command more arguments (e.g. `-D pid=abc`).
//
// After changing a message, rewrite the .stderr files and review the diff:
//
//   npm run build && QTRIP_UPDATE_UI=1 npx vitest run --config test/vitest.config.ts test/check/ui.test.ts
//
// Every diagnostic code in src/ must be shown by some case.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { qtrip } from "../support/cli.js";
import { repoRoot } from "../support/stap.js";

const dir = join(repoRoot, "test/check/ui");
const update = process.env.QTRIP_UPDATE_UI === "1";
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".qt"))
  .sort()
  .map((f) => f.slice(0, -3));

test.each(cases)("%s", (name) => {
  const source = readFileSync(join(dir, `${name}.qt`), "latin1");
  const args = /^# args: (.*)\n/.exec(source)?.[1]?.split(" ") ?? [];
  const r = qtrip(["check", ...args, `${name}.qt`], dir);
  const expectedFile = join(dir, `${name}.stderr`);
  if (update) writeFileSync(expectedFile, r.stderr);
  if (!existsSync(expectedFile)) throw new Error(`no ui/${name}.stderr: write it with QTRIP_UPDATE_UI=1 and review it`);
  const expected = readFileSync(expectedFile, "utf8");
  expect(r.stderr).toBe(expected);
  expect(r.status, r.stderr).toBe(/^\S+:\d+:\d+: error: /m.test(expected) ? 1 : 0);
});

test("every diagnostic code in src/ has a UI case, and every case a .qt file", () => {
  const shown = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".stderr"))) {
    expect(cases, f).toContain(f.slice(0, -7));
    for (const [, code] of readFileSync(join(dir, f), "utf8").matchAll(/ \[([EW]\d{4})\]$/gm)) shown.add(code!);
  }
  // Rule files' codes; a capture's (src/report, E09xx) are not a rule file's: test/report/codes.test.ts has those.
  const codes = new Set(sourceFiles(join(repoRoot, "src")).filter((f) => !f.includes("/src/report/")).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/"([EW]\d{4})"/g)].map((m) => m[1]!)));
  expect([...codes].filter((c) => !shown.has(c)).sort()).toEqual([]);
});

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}
