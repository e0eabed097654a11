// The runtime fix, on fake trees: detected by content (headers and runtime),
// applied to a private copy made once per content in the cache, never to the
// runtime it copies; and on the real trees of this machine.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { kernelTree } from "../../src/codegen/stap/builder/environment.js";
import { BuildError } from "../../src/codegen/stap/builder/errors.js";
import { cacheRoot, neededFixes, patchedRuntime, runtimeKey, TASK_WORK_CANCEL_FUNC } from "../../src/codegen/stap/builder/runtime.js";
import { kernelRelease, stapRuntime } from "../support/stap.js";
import { describeInstalled } from "../support/installed.js";

/** SystemTap 4.8's stp_task_work.c, the lines that matter. */
const OLD_RUNTIME = `typedef typeof(&task_work_cancel) task_work_cancel_fn;
#define task_work_cancel (* (task_work_cancel_fn)kallsyms_task_work_cancel)
	twork = task_work_cancel(task, func);
`;
/** 6.1.0-50's linux/task_work.h after the backport. */
const NEW_HEADER = `struct callback_head *task_work_cancel_func(struct task_struct *, task_work_func_t);
bool task_work_cancel(struct task_struct *task, struct callback_head *cb);
`;
const OLD_HEADER = "struct callback_head *task_work_cancel(struct task_struct *, task_work_func_t);\n";

function fakeRuntime(taskWork: string): string {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-fake-runtime-"));
  mkdirSync(join(dir, "linux"));
  writeFileSync(join(dir, "runtime.h"), "/* runtime */\n");
  writeFileSync(join(dir, "linux/runtime.h"), "/* linux runtime */\n");
  writeFileSync(join(dir, "stp_task_work.c"), taskWork);
  return dir;
}

const headers = (taskWork: string) => (path: string) => (path === "linux/task_work.h" ? taskWork : undefined);

describe("the task_work_cancel fix, detected by content", () => {
  test("needed: new headers, a runtime that calls the old task_work_cancel", () => {
    expect(neededFixes(fakeRuntime(OLD_RUNTIME), headers(NEW_HEADER))).toEqual([TASK_WORK_CANCEL_FUNC]);
  });

  test("not needed: headers from before the backport", () => {
    expect(neededFixes(fakeRuntime(OLD_RUNTIME), headers(OLD_HEADER))).toEqual([]);
  });

  test("not needed: a runtime that already calls task_work_cancel_func (a newer SystemTap)", () => {
    expect(neededFixes(fakeRuntime(TASK_WORK_CANCEL_FUNC.apply(OLD_RUNTIME)), headers(NEW_HEADER))).toEqual([]);
  });

  test("not needed: headers without task_work.h, or a runtime without stp_task_work.c", () => {
    expect(neededFixes(fakeRuntime(OLD_RUNTIME), () => undefined)).toEqual([]);
    const noFile = fakeRuntime(OLD_RUNTIME);
    rmSync(join(noFile, "stp_task_work.c"));
    expect(neededFixes(noFile, headers(NEW_HEADER))).toEqual([]);
  });

  test("the fix renames every use and nothing else", () => {
    expect(TASK_WORK_CANCEL_FUNC.apply(OLD_RUNTIME)).toBe(`typedef typeof(&task_work_cancel_func) task_work_cancel_fn;
#define task_work_cancel_func (* (task_work_cancel_fn)kallsyms_task_work_cancel)
	twork = task_work_cancel_func(task, func);
`);
  });
});

describe("the private copy", () => {
  test("is made once in the cache, patched, keyed by content; the runtime it copies is untouched", () => {
    const runtime = fakeRuntime(OLD_RUNTIME);
    const cache = mkdtempSync(join(tmpdir(), "qtrip-cache-"));
    const first = patchedRuntime(runtime, [TASK_WORK_CANCEL_FUNC], cache);
    expect(first.made).toBe(true);
    expect(first.dir).toBe(join(cache, `stap-runtime-${runtimeKey(runtime, [TASK_WORK_CANCEL_FUNC]).slice(0, 16)}`));
    expect(readFileSync(join(first.dir, "stp_task_work.c"), "utf8")).toBe(TASK_WORK_CANCEL_FUNC.apply(OLD_RUNTIME));
    expect(readFileSync(join(first.dir, "linux/runtime.h"), "utf8")).toBe("/* linux runtime */\n");
    expect(readFileSync(join(runtime, "stp_task_work.c"), "utf8")).toBe(OLD_RUNTIME);

    expect(patchedRuntime(runtime, [TASK_WORK_CANCEL_FUNC], cache)).toEqual({ dir: first.dir, made: false });
    // Only the copy: no temporary directory left behind.
    expect(readdirSync(cache)).toEqual([first.dir.replace(/^.*\//, "")]);
  });

  test("another runtime content is another copy", () => {
    const a = fakeRuntime(OLD_RUNTIME);
    const b = fakeRuntime(`${OLD_RUNTIME}/* 4.8-2 */\n`);
    expect(runtimeKey(a, [TASK_WORK_CANCEL_FUNC])).not.toBe(runtimeKey(b, [TASK_WORK_CANCEL_FUNC]));
    expect(runtimeKey(a, [TASK_WORK_CANCEL_FUNC])).not.toBe(runtimeKey(a, []));
    expect(runtimeKey(a, [TASK_WORK_CANCEL_FUNC])).toBe(runtimeKey(fakeRuntime(OLD_RUNTIME), [TASK_WORK_CANCEL_FUNC]));
  });

  test("a cache that cannot be written: a BuildError that says where; the runtime it copies untouched", () => {
    const runtime = fakeRuntime(OLD_RUNTIME);
    const make = () => patchedRuntime(runtime, [TASK_WORK_CANCEL_FUNC], "/dev/null/qtrip");
    expect(make).toThrow(BuildError);
    expect(make).toThrow(/^cannot make a patched copy of SystemTap's runtime in \/dev\/null\/qtrip: ENOTDIR: /);
    expect(readFileSync(join(runtime, "stp_task_work.c"), "utf8")).toBe(OLD_RUNTIME);
  });

  test("the cache is $XDG_CACHE_HOME/qtrip, else ~/.cache/qtrip", () => {
    expect(cacheRoot({ XDG_CACHE_HOME: "/var/cache/me" })).toBe("/var/cache/me/qtrip");
    expect(cacheRoot({})).toMatch(/\/\.cache\/qtrip$/);
    // A relative XDG_CACHE_HOME is invalid by the spec: ignored.
    expect(cacheRoot({ XDG_CACHE_HOME: "rel" })).toMatch(/\/\.cache\/qtrip$/);
  });
});

describeInstalled("stap", "test-kernel")("on this machine's SystemTap and the test kernel's headers", () => {
  const systemRuntime = "/usr/share/systemtap/runtime";

  test("the installed runtime needs the fix, and the patched copy is what .ci/install makes for the tests", () => {
    const tree = kernelTree(kernelRelease);
    expect(tree.header("linux/task_work.h")).toContain("task_work_cancel_func");
    expect(neededFixes(systemRuntime, tree.header)).toEqual([TASK_WORK_CANCEL_FUNC]);
    const copy = patchedRuntime(systemRuntime, [TASK_WORK_CANCEL_FUNC], mkdtempSync(join(tmpdir(), "qtrip-cache-")));
    expect(readFileSync(join(copy.dir, "stp_task_work.c"), "utf8")).toBe(readFileSync(join(stapRuntime, "stp_task_work.c"), "utf8"));
    expect(existsSync(join(copy.dir, "runtime.h"))).toBe(true);
  });
});
