// Builds dist/: qtrip.js, an ESM bundle of the CLI (unbundled chevrotain alone
// costs ~350 ms a run); qtrip.blob, a start-up snapshot of the compiler; and
// dist/qtrip, the command's shell script that picks between them
// (src/cli/qtrip.sh). prettier stays external: only `qtrip fmt` loads it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
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

// The start-up snapshot: one CommonJS bundle of the compiler, run once by node
// --build-snapshot. It fits only the node binary that made it, which
// dist/qtrip checks (path, size, mtime) before using it.
// dist/qtrip never runs `lsp` or `build` from the snapshot: the server and the
// builder (which spawns stap) stay out of it.
const lspOutside = {
  name: "lsp-outside",
  setup(b) {
    b.onResolve({ filter: /\/(lsp\/server|builder\/build)\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  ...common,
  entryPoints: ["src/cli/snapshot.ts"],
  outfile: "dist/qtrip-snapshot.cjs",
  format: "cjs",
  external: ["prettier", "prettier/*"],
  plugins: [lspOutside],
  // The snapshot has no module path: dist/qtrip tells it where dist/ is ($QTRIP_DIST).
  define: { "import.meta.url": '""' },
});
execFileSync(process.execPath, ["--snapshot-blob", "dist/qtrip.blob", "--build-snapshot", "dist/qtrip-snapshot.cjs"], { stdio: "inherit" });
const nodePath = realpathSync(process.execPath);
const node = statSync(nodePath);
writeFileSync("dist/qtrip.blob.node", `${nodePath} ${node.size} ${Math.floor(node.mtimeMs / 1000)}\n`);
copyFileSync("src/cli/qtrip.sh", "dist/qtrip");
chmodSync("dist/qtrip", 0o755);

// The BPF host backend's loader (src/codegen/bpf/program): a static binary with
// its BPF object inside, built with clang, bpftool and libbpf (.ci/install
// installs them) into a cache keyed by the sources' contents, then copied into
// dist/bpf/. Without those tools the rest of qtrip builds, and the bpf backend
// says what is missing when asked for.
const bpfSources = "src/codegen/bpf/program";
const bpfHash = createHash("sha256");
for (const name of readdirSync(bpfSources).sort()) bpfHash.update(`${name}\0`).update(readFileSync(`${bpfSources}/${name}`));
const bpfCache = `node_modules/.cache/qtrip/bpf-${bpfHash.digest("hex").slice(0, 16)}`;
const loader = "qtrip-bpf-crash";
const missing = ["clang", "bpftool", "gcc", "make"].filter((tool) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
});
if (!existsSync(`${bpfCache}/${loader}`) && missing.length === 0) {
  const tmp = `${bpfCache}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync("make", ["-s", "-C", bpfSources, `OUT=${realpathSync(".")}/${tmp}`], { stdio: "inherit" });
  rmSync(bpfCache, { recursive: true, force: true });
  renameSync(tmp, bpfCache);
}
if (existsSync(`${bpfCache}/${loader}`)) {
  mkdirSync("dist/bpf", { recursive: true });
  copyFileSync(`${bpfCache}/${loader}`, `dist/bpf/${loader}`);
  chmodSync(`dist/bpf/${loader}`, 0o755);
  // The object alone too (it is inside the loader): for bpftool, where it can attach it.
  copyFileSync(`${bpfCache}/qtrip-crash.bpf.o`, "dist/bpf/qtrip-crash.bpf.o");
} else {
  console.warn(`qtrip build: no BPF loader (--host-backend bpf): ${missing.join(", ")} not found (bash .ci/install installs them)`);
}
