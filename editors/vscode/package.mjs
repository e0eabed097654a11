// Builds qtrip.vsix with vsce, the standard packaging tool: bundles the client
// (vscode-languageclient included, so the package needs no node_modules),
// copies the TextMate grammar from grammar/ and the licence in (they are not
// kept twice in the repository), then packages. Run from anywhere:
// `node editors/vscode/package.mjs [--out FILE.vsix]`.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const outIndex = process.argv.indexOf("--out");
const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(here, "qtrip.vsix");

rmSync(join(here, "dist"), { recursive: true, force: true });
await build({
  entryPoints: [join(here, "src/extension.ts")],
  outfile: join(here, "dist/extension.js"),
  bundle: true,
  minify: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  logLevel: "warning",
  legalComments: "none",
});
mkdirSync(join(here, "syntaxes"), { recursive: true });
copyFileSync(join(root, "grammar/qtrip.tmLanguage.json"), join(here, "syntaxes/qtrip.tmLanguage.json"));
copyFileSync(join(root, "LICENSE"), join(here, "LICENSE"));

const vsce = join(dirname(createRequire(import.meta.url).resolve("@vscode/vsce/package.json")), "vsce");
// --no-dependencies: the bundle holds them; the repository has no public URL to name yet.
try {
  execFileSync(process.execPath, [vsce, "package", "--no-dependencies", "--allow-missing-repository", "--out", out], { cwd: here, stdio: ["ignore", "inherit", "inherit"] });
} catch {
  // vsce has said why on stderr.
  process.exit(1);
}
