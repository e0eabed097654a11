#!/usr/bin/env node
// Regenerates the x86_64 system call, errno and signal tables from Linux's own
// headers (Debian's linux-headers package): node stdlib/tables/generate.mjs [HEADERS_DIR]
// test/check/tables.test.ts checks the committed tables against the installed headers.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** `#define NAME value` lines of a header, aliases (`#define EWOULDBLOCK EAGAIN`) resolved. */
export function defines(text, prefix) {
  const raw = new Map();
  for (const match of text.matchAll(new RegExp(`^#define\\s+(${prefix}[A-Za-z0-9_]+)\\s+([A-Za-z0-9_]+)`, "gm"))) {
    raw.set(match[1], match[2]);
  }
  const resolved = {};
  for (const [name] of raw) {
    let value = raw.get(name);
    for (let hops = 0; hops < 5 && raw.has(value); hops++) value = raw.get(value);
    if (/^[0-9]+$/.test(value)) resolved[name] = Number(value);
  }
  return resolved;
}

export function readTables(headers) {
  const common = headers.replace(/-amd64$/, "-common");
  const read = (dir, path) => readFileSync(join(dir, path), "utf8");
  const syscalls = Object.fromEntries(
    Object.entries(defines(read(headers, "arch/x86/include/generated/uapi/asm/unistd_64.h"), "__NR_")).map(([name, nr]) => [
      name.slice("__NR_".length),
      nr,
    ]),
  );
  const errnos = defines(
    read(common, "include/uapi/asm-generic/errno-base.h") + read(common, "include/uapi/asm-generic/errno.h"),
    "E",
  );
  const signals = defines(read(common, "arch/x86/include/uapi/asm/signal.h"), "SIG");
  for (const name of ["SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", "SIGSTKSZ", "SIGRTMAX"]) delete signals[name];
  return { syscalls, errnos, signals };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const headers = process.argv[2] ?? "/usr/src/linux-headers-6.1.0-50-amd64";
  const tables = readTables(headers);
  for (const [name, table] of Object.entries(tables)) {
    const file = join(here, `${name === "syscalls" ? "syscalls-x86_64" : name}.json`);
    writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
    console.log(`${file}: ${Object.keys(table).length} names`);
  }
}
