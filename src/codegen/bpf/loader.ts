// The BPF backend's loader, qtrip-bpf-crash: a static x86-64 binary built from
// program/ by `npm run build` (src/bundle.mjs) into dist/bpf/, with the BPF object
// inside it. The host script carries it, gzip'd and in base64, so that one file
// is all the hypervisor needs.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const LOADER_NAME = "qtrip-bpf-crash";

/**
 * Where the built loader is: under $QTRIP_DIST (dist/qtrip sets it: the
 * start-up snapshot has no module path), else near this module (dist/, a chunk
 * in dist/chunks/, or src/codegen/bpf/ in a checkout).
 */
function loaderPath(): string | undefined {
  const here = import.meta.url ? dirname(fileURLToPath(import.meta.url)) : undefined;
  const starts = [process.env.QTRIP_DIST, here].filter((d): d is string => !!d);
  for (const start of starts) {
    let dir = start;
    for (let up = 0; up < 4; up++, dir = dirname(dir)) {
      for (const path of [join(dir, "bpf", LOADER_NAME), join(dir, "dist", "bpf", LOADER_NAME)]) if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** Why there is no loader to embed (a usage problem), or undefined. */
export function loaderProblem(): string | undefined {
  return loaderPath()
    ? undefined
    : `--host-backend bpf: its loader (dist/bpf/${LOADER_NAME}) was not built: npm run build needs clang, bpftool, libbpf-dev, libelf-dev and zlib1g-dev (bash .ci/install installs them)`;
}

export interface EmbeddedLoader {
  sha256: string;
  /** The gzip'd binary in base64, 76 characters a line. */
  lines: string[];
}

let embedded: EmbeddedLoader | undefined;

export function embeddedLoader(): EmbeddedLoader {
  if (embedded) return embedded;
  const path = loaderPath();
  if (!path) throw new Error(loaderProblem());
  const binary = readFileSync(path);
  // gzip with no name and no time in its header: the same loader gives the same script.
  const base64 = gzipSync(binary, { level: 9 }).toString("base64");
  embedded = { sha256: createHash("sha256").update(binary).digest("hex"), lines: base64.match(/.{1,76}/g) ?? [] };
  return embedded;
}
