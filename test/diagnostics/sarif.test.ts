// `qtrip check --format sarif` validates against the SARIF 2.1.0 JSON schema
// and says what `--format json` says. The schema, sarif-2.1.0-rtm.5.json beside
// this file, is the one the npm package @microsoft/jest-sarif (1.0.0-beta.0,
// lib/schemas/) ships for SARIF 2.1.0, copied unchanged: there is no network
// here but the npm registry. It is a draft-04 schema, hence ajv-draft-04.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { expect, test } from "vitest";
import { qtrip } from "../support/cli.js";
import { DIAGNOSTICS } from "../../src/diagnostics/registry.js";

const schema = JSON.parse(readFileSync(join(import.meta.dirname, "sarif-2.1.0-rtm.5.json"), "utf8"));
// unicodeRegExp: false — the schema's `language` pattern has a stray ']' that
// only the u flag rejects (JSON Schema's patterns are ECMA 262 without it).
// Both are CommonJS with an `exports.default` that TypeScript's NodeNext view sees as `.default`.
const Ajv = ajvDraft04.default;
const addFormats = ajvFormats.default;
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: Record<string, number> } }[];
  fixes?: { description: { text: string }; artifactChanges: { replacements: { deletedRegion: Record<string, number>; insertedContent: { text: string } }[] }[] }[];
}

const dir = mkdtempSync(join(tmpdir(), "qtrip-sarif-"));
const write = (name: string, content: string | Buffer) => (writeFileSync(join(dir, name), content), name);
const files = [
  write("every-error.qt", readFileSync(join(import.meta.dirname, "../lsp/fixtures/every-error.qt"))),
  write("ok.qt", "when event oops\n"),
  write("not utf8.qt", Buffer.from([0x77, 0x68, 0x65, 0x6e, 0x20, 0xff, 0x0a])),
  write("wide.qt", 'title "\u{1F600}"\nwhen syscall futx latency > 1s\n'),
];

function sarif(paths: string[]) {
  const { status, stdout, stderr } = qtrip(["check", "--format", "sarif", ...paths], dir);
  expect(stderr).toBe("");
  return { status, log: JSON.parse(stdout) };
}

test("the log of files with every kind of error validates against the schema", () => {
  const { status, log } = sarif(files);
  expect(status).toBe(1);
  const valid = validate(log);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
  expect(log.version).toBe("2.1.0");
  expect(log.runs).toHaveLength(1);
});

test("a log without findings validates too, and check exits 0", () => {
  const { status, log } = sarif(["ok.qt"]);
  expect(status).toBe(0);
  expect(validate(log)).toBe(true);
  expect(log.runs[0].results).toEqual([]);
  expect(log.runs[0].tool.driver).toEqual({ name: "qtrip", version: expect.stringMatching(/^\d+\.\d+\.\d+/), rules: [] });
});

test("results say what --format json says: code, level, message, file and region", () => {
  const { log } = sarif(files);
  const json = JSON.parse(qtrip(["check", "--format", "json", ...files], dir).stdout);
  const run = log.runs[0];
  const results = run.results as SarifResult[];
  expect(run.columnKind).toBe("utf16CodeUnits");
  expect(results.map((r) => [r.ruleId, r.level, r.message.text.split("\n")[0], r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region])).toEqual(
    json.diagnostics.map((d: Record<string, string | number>) => [
      d.code,
      d.severity,
      d.message,
      encodeURI(d.file as string),
      { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn },
    ]),
  );
  // The driver's rules are the codes seen; each result points at its own.
  const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
  expect(ids).toEqual([...new Set(json.diagnostics.map((d: { code: string }) => d.code))].sort());
  for (const r of results) expect(ids[r.ruleIndex]).toBe(r.ruleId);
  // Each rule says what its code means, from the registry (src/diagnostics/registry.ts).
  expect(run.tool.driver.rules.find((r: { id: string }) => r.id === "E0000")).toEqual({
    id: "E0000",
    shortDescription: { text: "the file is not UTF-8" },
    fullDescription: { text: DIAGNOSTICS.E0000.explanation },
    help: { text: `${DIAGNOSTICS.E0000.explanation} (docs/diagnostics.md#e0000)` },
    defaultConfiguration: { level: "error" },
  });
  expect(results.find((r) => r.ruleId === "E0000")!.locations[0].physicalLocation.artifactLocation).toEqual({ uri: "not%20utf8.qt", uriBaseId: "%SRCROOT%" });
});

test("a suggestion that names a replacement is a fix; notes and help are in the message", () => {
  const { log } = sarif(["wide.qt"]);
  const [result] = log.runs[0].results as SarifResult[];
  expect(result.ruleId).toBe("E0142");
  expect(result.message.text).toBe("unknown system call 'futx'\nnote: names are those of the x86_64 system call table\nhelp: did you mean 'futex'?");
  const region = { startLine: 2, startColumn: 14, endLine: 2, endColumn: 18 };
  expect(result.locations[0].physicalLocation.region).toEqual(region);
  expect(result.fixes).toEqual([
    {
      description: { text: "did you mean 'futex'?" },
      artifactChanges: [{ artifactLocation: { uri: "wide.qt", uriBaseId: "%SRCROOT%" }, replacements: [{ deletedRegion: region, insertedContent: { text: "futex" } }] }],
    },
  ]);
});

test("absolute paths are file: URIs", () => {
  const { log } = sarif([join(dir, "wide.qt")]);
  expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({ uri: `file://${join(dir, "wide.qt")}` });
});

test("the validator is not a rubber stamp: a result without a message is refused", () => {
  const { log } = sarif(["wide.qt"]);
  delete log.runs[0].results[0].message;
  expect(validate(log)).toBe(false);
});
