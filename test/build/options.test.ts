// The stap options qtrip build adds for a kernel (src/codegen/stap/builder/options.ts), decided by
// content: on fake trees, and on each Debian suite's real headers and runtime.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { KCFLAGS_NO_WARNINGS, neededOptions, NO_UPROBE_LOOKUPS } from "../../src/codegen/stap/builder/options.js";
import { listTargets, stapOptions } from "../support/targets.js";

function fakeRuntime(transport: string): string {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-fake-runtime-"));
  mkdirSync(join(dir, "transport"));
  writeFileSync(join(dir, "transport/transport.c"), transport);
  return dir;
}

const LOOKUP = 'kallsyms_uprobe_unregister = (void*) kallsyms_lookup_name ("uprobe_unregister");\n';
const UPROBES_6_1 = "extern void uprobe_unregister(struct inode *inode, loff_t offset, struct uprobe_consumer *uc);\n";
const UPROBES_6_12 = "extern void uprobe_unregister_nosync(struct uprobe *uprobe, struct uprobe_consumer *uc);\nextern void uprobe_unregister_sync(void);\n";
const ARGS_6_12 = "#define __COUNT_ARGS(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _n, X...) _n\n";
const headers = (files: Record<string, string>) => (path: string) => files[path];

describe("option fixes, by content", () => {
  test("6.12 headers with SystemTap 5.1's runtime: -B KCFLAGS=-w and no uprobe lookups", () => {
    expect(neededOptions(fakeRuntime(LOOKUP), headers({ "linux/args.h": ARGS_6_12, "linux/uprobes.h": UPROBES_6_12 }), false)).toEqual([KCFLAGS_NO_WARNINGS, NO_UPROBE_LOOKUPS]);
  });

  test("6.1 headers: nothing (no <linux/args.h>, uprobe_unregister exists)", () => {
    expect(neededOptions(fakeRuntime(LOOKUP), headers({ "linux/uprobes.h": UPROBES_6_1 }), false)).toEqual([]);
  });

  test("a runtime that does not look uprobe_unregister up, or a script with uprobes: no lookup fix", () => {
    const h = headers({ "linux/uprobes.h": UPROBES_6_12 });
    expect(neededOptions(fakeRuntime("/* 5.2 */\n"), h, false)).toEqual([]);
    expect(neededOptions(fakeRuntime(LOOKUP), h, true)).toEqual([]);
  });
});

describe("option fixes on each Debian suite's own headers and runtime", () => {
  for (const entry of listTargets()) {
    const t = entry.target;
    test.skipIf(!t)(`${entry.suite}: the options test/targets proved are the ones qtrip build adds`, () => {
      const kver = t!.kernelRelease.replace(/-amd64$/, "");
      const read = (path: string) => {
        for (const base of [`usr/src/linux-headers-${kver}-common`, `usr/src/linux-headers-${t!.kernelRelease}`]) {
          const file = join(t!.root, base, "include", path);
          if (existsSync(file)) return readFileSync(file, "utf8");
        }
        return undefined;
      };
      const options = neededOptions(join(t!.root, "usr/share/systemtap/runtime"), read, false).flatMap((f) => f.options);
      expect(options).toEqual(stapOptions(t!));
      expect(options.length > 0).toBe(entry.suite === "trixie");
    });
  }
});
