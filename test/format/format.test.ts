import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { formatSource } from "../../src/format/format.js";
import { parse } from "../../src/syntax/parse.js";
import { qtrip } from "../support/cli.js";
import { repoRoot } from "../support/stap.js";
import { stapSkeleton } from "../support/stap-text.js";

const files = [
  ...readdirSync(join(repoRoot, "examples")).map((f) => join(repoRoot, "examples", f)),
  ...readdirSync(join(repoRoot, "test/fixtures/language")).map((f) => join(repoRoot, "test/fixtures/language", f)),
  join(repoRoot, "test/fixtures/commented.qt"),
  join(repoRoot, "test/fixtures/allowances.qt"),
  join(repoRoot, "test/fixtures/sequences.qt"),
];

/** The AST without positions, modifiers in one order: what the file means. */
function meaning(text: string): unknown {
  const { file, diagnostics } = parse(text);
  expect(diagnostics).toEqual([]);
  const items = file.items.map((item) =>
    item.kind === "Rule" ? { ...item, modifiers: [...item.modifiers].sort((a, b) => a.kind.localeCompare(b.kind)) } : item,
  );
  return JSON.parse(JSON.stringify(items, (key, value) => (key === "span" ? undefined : typeof value === "bigint" ? `${value}n` : value)));
}

describe.each(files.map((f) => [f.slice(repoRoot.length + 1), f]))("%s", (_name, path) => {
  const source = readFileSync(path, "utf8");

  test("formatting is idempotent and keeps the meaning and every comment", async () => {
    const once = await formatSource(source);
    expect(await formatSource(once)).toBe(once);
    expect(meaning(once)).toEqual(meaning(source));
    const comments = (text: string) => parse(text).file.comments.map((c) => c.text.trimEnd());
    expect(comments(once)).toEqual(comments(source));
  });

  test("the formatted file compiles to the same code", async () => {
    const once = await formatSource(source);
    const before = compileSource(source, { fileName: "x.qt" });
    const after = compileSource(once, { fileName: "x.qt" });
    if (!before.outputs) {
      expect(after.outputs).toBeUndefined();
      return;
    }
    // Code is the same; only comments and strings may differ (the header's sha256, default labels' line numbers).
    expect(stapSkeleton(after.outputs!.guest)).toBe(stapSkeleton(before.outputs.guest));
    expect(stapSkeleton(after.outputs!.host)).toBe(stapSkeleton(before.outputs.host));
  });
});

test("the canonical layout", async () => {
  expect(await formatSource(readFileSync(join(repoRoot, "test/fixtures/commented.qt"), "utf8"))).toBe(`# A case file with comments everywhere the formatter must keep them.
case "00312345" # the customer's case
title "nova stalls"

# Parameters
param pid: int
param lag: duration = 20ms

# the stall they see
# nova-compute
when syscall futex, epoll_wait latency > 2s on pid $pid after 30s as "futex stall"
# vCPU gaps
when tick gap > $lag on cpu 0
when syscall openat error ENOENT, EACCES 10 times within 5s

# end of file
`);
});

test("an allowance is kept at the end of its rule, its codes as written, one space after each comma", async () => {
  const once = await formatSource(readFileSync(join(repoRoot, "test/fixtures/allowances.qt"), "utf8"));
  expect(once).toBe(`# Rules that acknowledge their warnings (docs/language.md, "Allowances").
param pid: int
when syscall read, fsync latency > 2s on pid $pid allow W0004 # reads files only
when syscall latency > 1s on tid 7 after 30s as "any call" allow W0005, W0004
# lock waits are the symptom
when syscall futex latency > 2s on pid $pid allow W0004
`);
  expect(await formatSource("when event oops allow W9999,w0004\n")).toBe("when event oops allow W9999, w0004\n");
});

test("a sequence keeps its window right after its second condition, the rule's modifiers after it", async () => {
  const once = await formatSource(readFileSync(join(repoRoot, "test/fixtures/sequences.qt"), "utf8"));
  expect(once).toBe(`# Sequences (grammar/reference.md, "Sequences"): the window right after the second condition.
when signal SIGSTOP on comm "qemu-kvm" then syscall read latency > 100ms on pid 7 within 5s
when tick gap > 50ms then vcpu stall > 100ms on cpu 1 within 2s 3 times within 1m as "stall after a gap"
# what follows the kill
when event oom_kill then message "Out of memory" within 1s after 30s
`);
  // A form the checker refuses still parses, and keeps its parts where they were written.
  expect(await formatSource("when event oops  then within 1s on pid 7 then   event warn\n")).toBe("when event oops then within 1s on pid 7 then event warn\n");
});

test("a share of time keeps its percentage and window together, a sequence's window after it", async () => {
  expect(await formatSource("when   steal >=  5%   within 2s  on cpu 2\n")).toBe("when steal >= 5% within 2s on cpu 2\n");
  expect(await formatSource("when signal SIGUSR1 then steal > 20%  within $w  within 1m\n")).toBe("when signal SIGUSR1 then steal > 20% within $w within 1m\n");
});

test("a number in a log line: the pattern kept as written (%u, %%, escapes), the comparison spaced as a threshold", async () => {
  const source = 'param lim: duration = 2ms\nwhen   message "tag \\"%%\\" at 100%% took %u" >=0x10\nwhen message "took %uns">$lim  on context "kernel"\n';
  const once = await formatSource(source);
  expect(once).toBe('param lim: duration = 2ms\nwhen message "tag \\"%%\\" at 100%% took %u" >= 0x10\nwhen message "took %uns" > $lim on context "kernel"\n');
  expect(await formatSource(once)).toBe(once);
  expect(meaning(once)).toEqual(meaning(source));
});

describe("qtrip fmt", () => {
  test("--check names unformatted files and exits 1; fmt rewrites them; then --check passes", () => {
    const dir = mkdtempSync(join(tmpdir(), "qtrip-fmt-"));
    writeFileSync(join(dir, "a.qt"), "when   syscall latency>1s\n");
    writeFileSync(join(dir, "b.qt"), "when syscall latency > 1s\n");
    expect(qtrip(["fmt", "--check", "a.qt", "b.qt"], dir)).toMatchObject({ status: 1, stdout: "a.qt\n" });
    expect(readFileSync(join(dir, "a.qt"), "utf8")).toBe("when   syscall latency>1s\n");
    expect(qtrip(["fmt", "a.qt", "b.qt"], dir)).toMatchObject({ status: 0, stdout: "formatted a.qt\n" });
    expect(readFileSync(join(dir, "a.qt"), "utf8")).toBe("when syscall latency > 1s\n");
    expect(qtrip(["fmt", "--check", "a.qt", "b.qt"], dir).status).toBe(0);
  });

  test("a file with a syntax error is reported and nothing is written", () => {
    const dir = mkdtempSync(join(tmpdir(), "qtrip-fmt-"));
    writeFileSync(join(dir, "a.qt"), "when   syscall latency>1s\n");
    writeFileSync(join(dir, "bad.qt"), "when syscall latency >\n");
    const r = qtrip(["fmt", "a.qt", "bad.qt"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.qt:1:23: error: expected a duration");
    expect(readFileSync(join(dir, "a.qt"), "utf8")).toBe("when   syscall latency>1s\n");
  });

  test("prettier's own command line formats .qt files with the plugin", () => {
    const dir = mkdtempSync(join(tmpdir(), "qtrip-prettier-"));
    writeFileSync(join(dir, "a.qt"), "when   syscall latency>1s   # why\n");
    const prettierBin = join(repoRoot, "node_modules/prettier/bin/prettier.cjs");
    const r = spawnSync(process.execPath, [prettierBin, "--plugin", join(repoRoot, "dist/prettier-plugin.js"), "--write", "*.qt"], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "a.qt"), "utf8")).toBe("when syscall latency > 1s # why\n");
  });
});

test("`counting pauses` is printed after `after D` and before `as`, whatever the order written", async () => {
  const source = 'when syscall fsync latency > 1s  as "sync" counting   pauses after 30s 2 times within 1m\nwhen tick gap > 100ms counting pauses\n';
  const once = await formatSource(source);
  expect(once).toBe('when syscall fsync latency > 1s 2 times within 1m after 30s counting pauses as "sync"\nwhen tick gap > 100ms counting pauses\n');
  expect(await formatSource(once)).toBe(once);
  expect(meaning(once)).toEqual(meaning(source));
});
