// Builds dist/qtrip.js: one ESM bundle of the CLI, so that a run starts near
// node's own start-up (unbundled chevrotain alone costs ~350 ms). prettier stays
// external: only `qtrip fmt` loads it.
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

const common = { minify: true, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning", legalComments: "none" };

if (process.argv[2] === "generate") {
  // `npm run generate`: run src/generate.ts, which writes the committed artifacts.
  // Inside the project, so that the generator resolves chevrotain's own files.
  const outfile = "node_modules/.cache/qtrip/generate.mjs";
  await build({ ...common, entryPoints: ["src/generate.ts"], outfile });
  execFileSync(process.execPath, [outfile], { stdio: "inherit" });
  process.exit(0);
}

rmSync("dist", { recursive: true, force: true });
await build({
  // qtrip.js is the CLI; prettier-plugin.js serves `prettier --plugin`. Shared
  // code and the formatter go into chunks that load only when needed.
  entryPoints: { qtrip: "src/cli/bin.ts", "prettier-plugin": "src/format/plugin.ts" },
  ...common,
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  external: ["prettier", "prettier/*"],
  // commander is CommonJS: give the bundle a require() of its own.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __qtripRequire } from 'node:module';\nconst require = __qtripRequire(import.meta.url);" },
});
chmodSync("dist/qtrip.js", 0o755);
