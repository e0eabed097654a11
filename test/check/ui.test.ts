// Diagnostics as the user sees them, rustc-style UI tests: each ui/NAME.qt sits
// beside ui/NAME.stderr, the exact text `qtrip check NAME.qt` prints to stderr
// when run in ui/. The exit status follows from it: 1 if it holds an error, else 0.
// A first line `# args: ARGS` gives the command more arguments (e.g. `-D pid=abc`).
// The cases run in this process through the CLI's run(argv, io), as the built
// CLI would (a spawn each cost about 0.4 s); one case also runs the built CLI,
// dist/qtrip, to show that it prints the same (`npm run build` first; npm test does).
//
// After changing a message, rewrite the .stderr files and review the diff:
//
//   QTRIP_UPDATE_UI=1 npx vitest run --config test/vitest.config.ts test/check/ui.test.ts
//
// Every diagnostic code of the registry has a case here, or says why not
// (test/diagnostics/registry.test.ts).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { run } from "../../src/cli/main.js";
import { qtrip } from "../support/cli.js";
import { repoRoot } from "../support/stap.js";

const dir = join(repoRoot, "test/check/ui");
const update = process.env.QTRIP_UPDATE_UI === "1";
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".qt"))
  .sort()
  .map((f) => f.slice(0, -3));

function argsOf(name: string): string[] {
  const source = readFileSync(join(dir, `${name}.qt`), "latin1");
  return [...(/^# args: (.*)\n/.exec(source)?.[1]?.split(" ") ?? []), `${name}.qt`];
}

function expected(name: string): string {
  const file = join(dir, `${name}.stderr`);
  if (!existsSync(file)) throw new Error(`no ui/${name}.stderr: write it with QTRIP_UPDATE_UI=1 and review it`);
  return readFileSync(file, "utf8");
}

const statusOf = (stderr: string) => (/^\S+:\d+:\d+: error: /m.test(stderr) ? 1 : 0);

// File names in the messages are as given, relative to ui/: run there, as a user would.
const cwd = process.cwd();
beforeAll(() => process.chdir(dir));
afterAll(() => process.chdir(cwd));

test.each(cases)("%s", async (name) => {
  let stderr = "";
  const status = await run(["check", ...argsOf(name)], { stdout: () => {}, stderr: (text) => void (stderr += text) });
  if (update) writeFileSync(join(dir, `${name}.stderr`), stderr);
  expect(stderr).toBe(expected(name));
  expect(status, stderr).toBe(statusOf(stderr));
});

test("the built CLI prints what run() prints, with the same exit status: an error with help, warnings with notes", () => {
  for (const name of ["threshold-missing", "unused-parameter"]) {
    const r = qtrip(["check", ...argsOf(name)], dir);
    expect(r.stderr).toBe(expected(name));
    expect(r.status, r.stderr).toBe(statusOf(r.stderr));
  }
});

test("every .stderr has its .qt", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".stderr"))) expect(cases, f).toContain(f.slice(0, -7));
});
