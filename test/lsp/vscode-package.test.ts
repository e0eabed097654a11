// The VS Code package: built with vsce by editors/vscode/package.mjs (no network
// needed past npm install), then read back as the zip it is.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import yauzl from "yauzl";
import { repoRoot } from "../support/stap.js";

/** Every file in a zip, by name. */
async function unzip(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      zip
        .openReadStreamPromise(entry)
        .then(async (stream) => {
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          files.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        })
        .catch(reject);
    });
    zip.on("end", resolve);
    zip.on("error", reject);
    zip.readEntry();
  });
  return files;
}

let files: Map<string, Buffer>;
beforeAll(async () => {
  const out = join(mkdtempSync(join(tmpdir(), "qtrip-vsix-")), "qtrip.vsix");
  const built = spawnSync(process.execPath, [join(repoRoot, "editors/vscode/package.mjs"), "--out", out], { encoding: "utf8" });
  expect(built.stderr).not.toContain("ERROR");
  expect(built.status).toBe(0);
  files = await unzip(out);
});

test("holds the manifest, the client, the language configuration, the grammar, the readme and the licence, nothing else", () => {
  expect([...files.keys()].sort()).toEqual([
    "[Content_Types].xml",
    "extension.vsixmanifest",
    "extension/LICENSE.txt",
    "extension/dist/extension.js",
    "extension/language-configuration.json",
    "extension/package.json",
    "extension/readme.md",
    "extension/syntaxes/qtrip.tmLanguage.json",
  ]);
});

test("contributes language qtrip for .qt with the repository's own grammar", () => {
  const manifest = JSON.parse(files.get("extension/package.json")!.toString());
  expect(manifest.contributes.languages).toEqual([{ id: "qtrip", aliases: ["qtrip"], extensions: [".qt"], configuration: "./language-configuration.json" }]);
  expect(manifest.contributes.grammars).toEqual([{ language: "qtrip", scopeName: "source.qtrip", path: "./syntaxes/qtrip.tmLanguage.json" }]);
  expect(manifest.contributes.configuration.properties["qtrip.server.path"].default).toBe("qtrip");
  expect(manifest.main).toBe("./dist/extension.js");
  // A copy of grammar/ made at package time, byte for byte.
  expect(files.get("extension/syntaxes/qtrip.tmLanguage.json")!.equals(readFileSync(join(repoRoot, "grammar/qtrip.tmLanguage.json")))).toBe(true);
  expect(files.get("extension.vsixmanifest")!.toString()).toContain('Language="en-US" Id="qtrip" Version="0.1.0" Publisher="qtrip"');
});

test("the language configuration: # comments, brackets, quotes", () => {
  const config = JSON.parse(files.get("extension/language-configuration.json")!.toString());
  expect(config.comments).toEqual({ lineComment: "#" });
  expect(config.brackets).toContainEqual(["(", ")"]);
  expect(config.autoClosingPairs).toContainEqual({ open: '"', close: '"', notIn: ["string", "comment"] });
});

test("the client is bundled: it starts `qtrip lsp` and needs only vscode from outside", () => {
  const client = files.get("extension/dist/extension.js")!.toString();
  const required = new Set([...client.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  expect([...required].filter((name) => !builtinModules.includes(name.replace(/^node:/, "")))).toEqual(["vscode"]);
  expect(client).toContain('args:["lsp"]');
  expect(client).toContain("qtrip.server.path");
});
