// Rule-file strings are data: each is refused with a diagnostic, or reaches the
// generated scripts only inside string literals and comments, so that the script
// without its literals and comments is the same as with harmless strings.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { GUEST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { HOST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { qtrip } from "../support/cli.js";
import { splitOptions, stap } from "../support/stap.js";
import { stapSkeleton } from "../support/stap-text.js";

/** Where a string can go, as a rule file with S for the string's body. */
const FIELDS: Record<string, string> = {
  case: 'case "S"\nwhen syscall latency > 1s',
  title: 'title "S"\nwhen syscall latency > 1s',
  comm: 'when syscall latency > 1s on comm "S"',
  device: 'when io latency > 1s on device "S"',
  message: 'when message "S"',
  function: 'when function "S" latency > 1s',
  label: 'when syscall latency > 1s as "S"',
  "param default": 'param who: string = "S"\nwhen signal SIGKILL on comm $who',
};

/** Hostile values, as decoded strings. */
const HOSTILE: Record<string, string> = {
  quote: 'a"b',
  backslash: "a\\b",
  "embedded C": "%{ panic(\"x\"); %}",
  "embedded C end": "%}",
  preprocessor: '%( kernel_v > "1" %? x %: y %)',
  "format directives": "%s%n%p%d",
  "comment breakers": "*/ /* # //",
  "code injection": '") ; probe begin { panic() } #',
  newline: "a\nb",
  tab: "a\tb",
  nul: "a\u0000b",
  "line separator": "a\u2028b",
  "non-ASCII": "stalls é ü 漢",
  "200 kB": "a".repeat(200_000),
};

/** The body of a rule-file string literal for a value. */
function encode(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t");
}

function compile(template: string, value: string, defines?: Map<string, string>) {
  return compileSource(template.replace("S", encode(value)), { fileName: "rule.qt", ...(defines ? { defines } : {}) });
}

const cases = Object.entries(FIELDS).flatMap(([field, template]) => Object.entries(HOSTILE).map(([name, value]) => [field, name, template, value] as const));

describe("hostile strings", () => {
  test.each(cases)("%s: %s is refused or stays data", async (field, _name, template, value) => {
    const hostile = compile(template, value);
    if (!hostile.outputs) {
      // Refused: with an error that points into the rule file.
      expect(hostile.diagnostics.some((d) => d.severity === "error" && d.span.start.line >= 1)).toBe(true);
      return;
    }
    const harmless = compile(template, field === "function" ? "vfs_fsync" : "harmless");
    expect(harmless.outputs, "the harmless variant compiles").toBeDefined();
    expect(stapSkeleton(hostile.outputs.guest)).toBe(stapSkeleton(harmless.outputs!.guest));
    expect(stapSkeleton(hostile.outputs.host)).toBe(stapSkeleton(harmless.outputs!.host));
    // The real translator parses both scripts.
    const [guest, host] = await Promise.all([
      stap(hostile.outputs.guest, { pass: 1, options: splitOptions(GUEST_STAP_OPTIONS) }),
      stap(hostile.outputs.host, { pass: 1, options: splitOptions(HOST_STAP_OPTIONS) }),
    ]);
    expect(guest.ok, guest.stderr).toBe(true);
    expect(host.ok, host.stderr).toBe(true);
  }, 60_000);

  test.each(Object.entries(HOSTILE))("--define with %s stays data", (_name, value) => {
    const template = "param who: string\nwhen signal SIGKILL on comm $who";
    const hostile = compile(template, "", new Map([["who", value]]));
    const harmless = compile(template, "", new Map([["who", "harmless"]]));
    if (!hostile.outputs) {
      expect(hostile.diagnostics.some((d) => d.severity === "error")).toBe(true);
      return;
    }
    expect(stapSkeleton(hostile.outputs.guest)).toBe(stapSkeleton(harmless.outputs!.guest));
  });

  test("a kernel function name must be a symbol name", () => {
    for (const name of ['a")', "a b", "a;b", "%{x%}", "ext4:", ":x", "9abc"]) {
      expect(compile(FIELDS.function, name).diagnostics.map((d) => d.code), name).toContain("E0148");
    }
  });

  test("invalid UTF-8 is refused before parsing", () => {
    const dir = mkdtempSync(join(tmpdir(), "qtrip-utf8-"));
    writeFileSync(join(dir, "r.qt"), Buffer.concat([Buffer.from('when syscall latency > 1s as "'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]));
    const r = qtrip(["compile", "r.qt"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: the file is not UTF-8 text (byte 30) [E0000]");
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });
});
