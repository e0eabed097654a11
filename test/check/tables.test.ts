// The system call, errno and signal tables are data generated from Linux's own
// headers: they must match the headers installed for the test kernel.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
// @ts-expect-error: a plain ES module without types
import { readTables } from "../../stdlib/tables/generate.mjs";
import { kernelRelease, repoRoot } from "../support/stap.js";

test.each(["syscalls", "errnos", "signals"])("stdlib/tables: %s match the kernel headers", (name) => {
  const fromHeaders = readTables(`/usr/src/linux-headers-${kernelRelease}`)[name];
  const file = name === "syscalls" ? "syscalls-x86_64" : name;
  const committed = JSON.parse(readFileSync(join(repoRoot, "stdlib/tables", `${file}.json`), "utf8"));
  expect(committed).toEqual(fromHeaders);
  expect(Object.keys(committed).length).toBeGreaterThan(30);
});

test("well-known entries", () => {
  const { syscalls, errnos, signals } = readTables(`/usr/src/linux-headers-${kernelRelease}`);
  expect([syscalls.read, syscalls.futex, syscalls.exit_group]).toEqual([0, 202, 231]);
  expect([errnos.ENOENT, errnos.EACCES, errnos.EWOULDBLOCK]).toEqual([2, 13, 11]);
  expect([signals.SIGKILL, signals.SIGSEGV]).toEqual([9, 11]);
});
