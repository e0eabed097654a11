// What a build needs from the machine, on fake trees: the kernel's build tree
// as stap -r RELEASE finds it (Debian's split headers included), its symbol
// table for kprobe rules, and stap on PATH.
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkRelease, findStap, kernelTree, requireSystemMap, type MachineRoots } from "../../src/codegen/stap/builder/environment.js";
import { BuildError } from "../../src/codegen/stap/builder/errors.js";

const RELEASE = "6.1.0-99-amd64";

/** /lib/modules/RELEASE/build → an -amd64 tree whose Makefile includes a -common tree, as Debian ships them. */
function fakeMachine(systemMap?: string, bootMap?: string): MachineRoots {
  const root = mkdtempSync(join(tmpdir(), "qtrip-machine-"));
  const arch = join(root, "usr/src/linux-headers-6.1.0-99-amd64");
  const common = join(root, "usr/src/linux-headers-6.1.0-99-common");
  mkdirSync(join(common, "include/linux"), { recursive: true });
  mkdirSync(arch, { recursive: true });
  mkdirSync(join(root, "lib/modules", RELEASE), { recursive: true });
  mkdirSync(join(root, "boot"));
  writeFileSync(join(common, "Makefile"), "# the kernel's Makefile\n");
  writeFileSync(join(common, "include/linux/task_work.h"), "task_work_cancel_func\n");
  writeFileSync(join(arch, "Makefile"), `include ${common}/Makefile\n`);
  symlinkSync(arch, join(root, "lib/modules", RELEASE, "build"));
  if (systemMap !== undefined) writeFileSync(join(arch, "System.map"), systemMap);
  if (bootMap !== undefined) writeFileSync(join(root, "boot", `System.map-${RELEASE}`), bootMap);
  return { modules: join(root, "lib/modules"), boot: join(root, "boot") };
}

const realMap = Array.from({ length: 2000 }, (_, i) => `ffffffff8${i.toString(16).padStart(7, "0")} T f${i}`).join("\n");
const debianStub = "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n";

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("the kernel's build tree", () => {
  test("is /lib/modules/RELEASE/build; headers are read from the tree its Makefile includes too", () => {
    const roots = fakeMachine();
    const tree = kernelTree(RELEASE, roots);
    expect(tree.build).toBe(join(roots.modules, RELEASE, "build"));
    expect(tree.header("linux/task_work.h")).toBe("task_work_cancel_func\n");
    expect(tree.header("linux/none.h")).toBeUndefined();
  });

  test("missing: says which directory and which package", () => {
    expect(message(() => kernelTree("6.1.0-0-madeup", fakeMachine()))).toMatch(
      /^no headers for kernel 6\.1\.0-0-madeup: \/.*\/lib\/modules\/6\.1\.0-0-madeup\/build does not exist \(Debian, Ubuntu: apt install linux-headers-6\.1\.0-0-madeup; RHEL, Fedora: dnf install kernel-devel-6\.1\.0-0-madeup\)$/,
    );
  });

  test("a release is one name, as uname -r prints it", () => {
    expect(checkRelease("6.1.0-50-amd64")).toBeUndefined();
    expect(checkRelease("5.14.0-427.13.1.el9_4.x86_64")).toBeUndefined();
    expect(checkRelease("../../etc")).toBe("'../../etc' is not a kernel release (like 6.1.0-50-amd64, as uname -r prints it)");
    expect(checkRelease("")).toBe("'' is not a kernel release (like 6.1.0-50-amd64, as uname -r prints it)");
  });
});

describe("the symbol table kprobe rules need", () => {
  test("the real map in the build tree is taken", () => {
    const roots = fakeMachine(realMap);
    expect(requireSystemMap(kernelTree(RELEASE, roots), roots)).toBe(join(roots.modules, RELEASE, "build/System.map"));
  });

  test("else /boot/System.map-RELEASE, as stap reads it", () => {
    const roots = fakeMachine(undefined, realMap);
    expect(requireSystemMap(kernelTree(RELEASE, roots), roots)).toBe(join(roots.boot, `System.map-${RELEASE}`));
  });

  test("Debian's stub: says it is one, and where the real one is", () => {
    const roots = fakeMachine(undefined, debianStub);
    const text = message(() => requireSystemMap(kernelTree(RELEASE, roots), roots));
    expect(text).toContain(`this rule's kprobe probes need kernel ${RELEASE}'s symbol table and ${roots.boot}/System.map-${RELEASE} is a stub (1 line)`);
    expect(text).toContain(`from the linux-image-${RELEASE}-dbg package, file /usr/lib/debug/boot/System.map-${RELEASE}`);
    expect(text).toContain(`copy the real map to ${roots.modules}/${RELEASE}/build/System.map`);
  });

  test("none at all: names both places", () => {
    const roots = fakeMachine();
    expect(message(() => requireSystemMap(kernelTree(RELEASE, roots), roots))).toContain(
      `and neither ${roots.modules}/${RELEASE}/build/System.map nor ${roots.boot}/System.map-${RELEASE} exists`,
    );
  });
});

describe("stap", () => {
  test("not on PATH: says how to install it", () => {
    expect(message(() => findStap({ PATH: "/nonexistent:/also-not" }))).toBe(
      "SystemTap is not installed: no 'stap' on PATH (Debian, Ubuntu: apt install systemtap; RHEL, Fedora: dnf install systemtap)",
    );
  });

  test("found on PATH, with its runtime beside it (PREFIX/share/systemtap/runtime)", () => {
    const prefix = mkdtempSync(join(tmpdir(), "qtrip-prefix-"));
    mkdirSync(join(prefix, "bin"));
    mkdirSync(join(prefix, "share/systemtap/runtime"), { recursive: true });
    writeFileSync(join(prefix, "bin/stap"), "#!/bin/sh\n");
    chmodSync(join(prefix, "bin/stap"), 0o755);
    expect(() => findStap({ PATH: join(prefix, "bin") })).toThrow(`SystemTap's runtime is not in ${prefix}/share/systemtap/runtime`);
    writeFileSync(join(prefix, "share/systemtap/runtime/runtime.h"), "");
    expect(findStap({ PATH: `/nonexistent:${join(prefix, "bin")}` })).toEqual({ program: join(prefix, "bin/stap"), runtime: join(prefix, "share/systemtap/runtime") });
  });

  test("this machine's: /usr/bin/stap and /usr/share/systemtap/runtime", () => {
    expect(findStap({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin" })).toEqual({ program: "/usr/bin/stap", runtime: "/usr/share/systemtap/runtime" });
  });
});
