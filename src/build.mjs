// Builds dist/qtrip.js: one ESM bundle of the CLI, so that a run starts near
// node's own start-up (unbundled chevrotain alone costs ~350 ms). prettier stays
// external: only `qtrip fmt` loads it.
import { chmodSync } from "node:fs";
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/qtrip.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["prettier", "prettier/*"],
  // commander is CommonJS: give the bundle a require() of its own.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __qtripRequire } from 'node:module';\nconst require = __qtripRequire(import.meta.url);" },
  logLevel: "warning",
  legalComments: "none",
});
chmodSync("dist/qtrip.js", 0o755);
