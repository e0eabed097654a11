#!/usr/bin/env node
// The test tiers, in one place: `npm run test:TIER` runs one tier alone
// (`node test/tiers.mjs TIER [vitest options]`); `npm test` (test/run.sh) runs
// every file, so every tier. A file belongs to the first tier below whose paths
// hold it; `unit` is every other file. docs/testing.md says what each tier proves
// and how long it takes; test/architecture/tiers.test.ts checks the cut
// (`node test/tiers.mjs --list` prints each file's tier).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Tier name -> the files and folders it holds (a folder ends with /). */
const TIERS = {
  // The full chain, last and alone in npm test (test/run.sh says why).
  chain: ["test/e2e/chain/"],
  // Each Debian suite's own tools: the build targets' chroots and the stock images.
  distros: ["test/targets/", "test/e2e/stock/", "test/e2e/distros/", "test/e2e/host/kernels.test.ts"],
  guest: ["test/e2e/guest/"],
  host: ["test/e2e/host/"],
  // This machine's SystemTap building modules (stap -p4, nothing loaded).
  stap: ["test/codegen/examples.test.ts", "test/codegen/language.test.ts", "test/build/cli.test.ts", "test/build/runtime.test.ts"],
};
const NAMES = [...Object.keys(TIERS), "unit"];

function testFiles() {
  return readdirSync(join(root, "test"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

function tierOf(file) {
  const holds = (path) => (path.endsWith("/") ? file.startsWith(path) : file === path);
  return Object.keys(TIERS).find((tier) => TIERS[tier].some(holds)) ?? "unit";
}

const [tier, ...rest] = process.argv.slice(2);
if (tier === "--list") {
  const files = testFiles();
  console.log(JSON.stringify({ tiers: TIERS, files: Object.fromEntries(files.map((f) => [f, tierOf(f)])) }, null, 2));
} else if (NAMES.includes(tier)) {
  const files = testFiles().filter((f) => tierOf(f) === tier);
  const r = spawnSync("npx", ["vitest", "run", "--config", "test/vitest.config.ts", ...rest, ...files], { cwd: root, stdio: "inherit" });
  process.exit(r.status ?? 1);
} else {
  console.error(`usage: node test/tiers.mjs ${NAMES.join("|")} [vitest options] (or --list)`);
  process.exit(2);
}
