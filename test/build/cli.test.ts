// `qtrip build` as a user runs it (dist/qtrip), with this machine's SystemTap
// exactly as installed and the test kernel's headers: real stap -p4 builds,
// and each way it can fail, with nothing written then.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { qtrip, qtripBin } from "../support/cli.js";
import { kernelRelease } from "../support/stap.js";
import { describeInstalled } from "../support/installed.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qtrip-build-cli-"));
});

const RULE = 'case "12"\nparam pid: int\nwhen syscall fsync latency > 200ms on pid $pid as "slow call"\n';

function modinfo(file: string, field: string): string {
  return execFileSync("/usr/sbin/modinfo", ["-F", field, file], { encoding: "utf8" }).trim();
}

describeInstalled("stap", "test-kernel")("qtrip build for the test kernel", { timeout: 600_000 }, () => {
  test("writes the guest and host modules and the staprun commands; prints them", () => {
    writeFileSync(join(dir, "stall.qt"), RULE);
    const r = qtrip(["build", "stall.qt", "--kernel", kernelRelease, "--host-kernel", kernelRelease], dir);
    expect(r.stderr).not.toMatch(/error|at .*\.js:\d+/i);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["stall.qt", "stall.staprun.txt", "stall_guest.ko", "stall_host.ko"]);
    // Modules for that kernel, named as their files (staprun finds a module by its file name).
    for (const role of ["guest", "host"]) {
      const ko = join(dir, `stall_${role}.ko`);
      expect(modinfo(ko, "name")).toBe(`stall_${role}`);
      expect(modinfo(ko, "vermagic")).toMatch(new RegExp(`^${kernelRelease.replace(/\./g, "\\.")} SMP `));
    }
    const commands = readFileSync(join(dir, "stall.staprun.txt"), "utf8");
    expect(commands.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      "staprun -L stall_guest.ko pid=VALUE",
      // The libvirt line passes the pid file's time: the host module refuses a stale pid file (issue 23, item 6).
      `staprun -L -x VMM_PID stall_host.ko${" ".repeat(90)}# VMM_PID: the guest's QEMU process`,
      "staprun -L -x $(cat /run/libvirt/qemu/DOMAIN.pid) stall_host.ko qt_pidfile_time=$(stat -c %Y /run/libvirt/qemu/DOMAIN.pid)   # libvirt: DOMAIN is the guest's domain name",
    ]);
    expect(commands).toContain(`# In the guest (kernel ${kernelRelease}), as root:`);
    expect(commands).toContain("unload with: staprun -d stall_guest");
    expect(r.stdout).toBe(`wrote stall_guest.ko\nwrote stall_host.ko\nwrote stall.staprun.txt\n${commands}`);
    // The build machine's runtime is used as shipped, with qtrip's private fix: never the system's copy edited.
    expect(r.stderr).toMatch(/SystemTap's runtime \(\/usr\/share\/systemtap\/runtime\) does not build for .* as shipped; (made|using) a patched copy: \/.*\/qtrip\/stap-runtime-[0-9a-f]{16} /);
    expect(readFileSync("/usr/share/systemtap/runtime/stp_task_work.c", "utf8")).toContain("task_work_cancel(task, func)");
    console.log(r.stderr.split("\n").filter((l) => l.includes("built ")).join("\n"));
  });

  test("-o DIR and --define: the value is built in, so the command has no parameter", () => {
    writeFileSync(join(dir, "stall.qt"), RULE);
    const out = mkdtempSync(join(tmpdir(), "qtrip-build-out-"));
    const r = qtrip(["build", "stall.qt", "--kernel", kernelRelease, "-D", "pid=1", "-o", out], dir);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["stall.staprun.txt", "stall_guest.ko"]);
    expect(readFileSync(join(out, "stall.staprun.txt"), "utf8")).toContain("\nstaprun -L stall_guest.ko\n");
  });

  // A function found nowhere no longer fails the build: its probe is placed as the module loads, by the
  // running kernel (fragments/function-places.ts), which says so then. The build succeeds.
  test("a function the build machine's symbol table lacks still builds (placed at load)", () => {
    writeFileSync(join(dir, "nf.qt"), 'when function "qtrip_no_such_function" latency > 1s\n');
    const r = qtrip(["build", "nf.qt", "--kernel", kernelRelease, "--host-kernel", kernelRelease], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["nf.qt", "nf.staprun.txt", "nf_guest.ko", "nf_host.ko"]);
  });

  // SystemTap's own failure, as its pass 2 prints it (the text of a real one: a probe point with no match),
  // from a stand-in stap first on PATH: what qtrip makes of it is what this checks.
  test("a build that fails: SystemTap's first errors, shortened; exit 1; nothing written", () => {
    const bin = mkdtempSync(join(tmpdir(), "qtrip-fake-stap-"));
    writeFileSync(
      join(bin, "stap"),
      [
        "#!/bin/sh",
        "cat >&2 <<'EOF'",
        "semantic error: while resolving probe point: identifier 'kprobe' at nf.guest.stp:151:7",
        '        source: probe kprobe.function("qtrip_no_such_function")',
        "                      ^",
        "",
        "semantic error: no match (similar functions: qtrip_no_such_func, no_such_function)",
        "",
        "Pass 2: analysis failed.  [man error::pass2]",
        "EOF",
        "exit 1",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(join(dir, "nf.qt"), 'when function "qtrip_no_such_function" latency > 1s\n');
    const r = qtrip(["build", "nf.qt", "--kernel", kernelRelease, "--host-kernel", kernelRelease], dir, { PATH: `${bin}:${process.env.PATH}`, SYSTEMTAP_RUNTIME: "/usr/share/systemtap/runtime" });
    expect(r.status).toBe(1);
    const error = r.stderr.slice(r.stderr.indexOf("qtrip: SystemTap could not"));
    const [first, second, third, ...rest] = error.split("\n");
    expect(first).toBe(`qtrip: SystemTap could not build nf_guest.ko for ${kernelRelease}: Pass 2: analysis failed`);
    expect(second).toMatch(/^ {2}semantic error: while resolving probe point: identifier 'kprobe' at nf\.guest\.stp:\d+:\d+$/);
    expect(third).toMatch(/^ {2}semantic error: no match \(similar functions: /);
    expect(rest).toEqual([""]);
    expect(readdirSync(dir)).toEqual(["nf.qt"]);
  });
});

describe("qtrip build's errors", () => {
  beforeEach(() => writeFileSync(join(dir, "r.qt"), RULE));

  test("no headers for the release: says which and how to get them; exit 1", () => {
    const r = qtrip(["build", "r.qt", "--kernel", "6.1.0-0-madeup-amd64"], dir);
    expect(r).toMatchObject({
      status: 1,
      stdout: "",
      stderr:
        "qtrip: no headers for kernel 6.1.0-0-madeup-amd64: /lib/modules/6.1.0-0-madeup-amd64/build does not exist (Debian, Ubuntu: apt install linux-headers-6.1.0-0-madeup-amd64; RHEL, Fedora: dnf install kernel-devel-6.1.0-0-madeup-amd64)\n",
    });
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("the host's headers are checked before anything is built", () => {
    const r = qtrip(["build", "r.qt", "--kernel", kernelRelease, "--host-kernel", "6.1.0-0-madeup-amd64"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^qtrip: no headers for kernel 6\.1\.0-0-madeup-amd64: /m);
    expect(r.stderr).not.toContain("building");
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("SystemTap not on PATH: exit 1", () => {
    // node itself is found by its full path; PATH has only what busybox-like basics are in /bin.
    const result = spawnSync(process.execPath, [join(qtripBin, "../qtrip.js"), "build", "r.qt", "--kernel", kernelRelease], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PATH: "/nonexistent" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("qtrip: SystemTap is not installed: no 'stap' on PATH (Debian, Ubuntu: apt install systemtap; RHEL, Fedora: dnf install systemtap)\n");
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("SYSTEMTAP_RUNTIME naming no runtime: says so; exit 1", () => {
    const r = qtrip(["build", "r.qt", "--kernel", kernelRelease], dir, { SYSTEMTAP_RUNTIME: dir });
    expect(r).toMatchObject({ status: 1, stdout: "", stderr: `qtrip: SystemTap's runtime is not in ${dir} (reinstall systemtap, or set SYSTEMTAP_RUNTIME)\n` });
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("a cache qtrip cannot write its runtime copy to: says where and what to do; exit 1, nothing built", () => {
    // The test kernel's headers need the runtime copy (task_work_cancel); /dev/null is no directory, even for root.
    const r = qtrip(["build", "r.qt", "--kernel", kernelRelease], dir, { XDG_CACHE_HOME: "/dev/null/cache" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "qtrip: cannot make a patched copy of SystemTap's runtime in /dev/null/cache/qtrip: ENOTDIR: not a directory, mkdir '/dev/null/cache/qtrip' " +
        "(qtrip keeps it in $XDG_CACHE_HOME/qtrip, else ~/.cache/qtrip: make that writable, or set XDG_CACHE_HOME to a directory that is)\n",
    );
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("errors in the rule file: the diagnostics, exit 1, nothing built", () => {
    writeFileSync(join(dir, "bad.qt"), "when syscall latncy > 1s\n");
    const r = qtrip(["build", "bad.qt", "--kernel", kernelRelease], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.qt:1:14: error: expected 'latency', found 'latncy' [E0141]");
    expect(r.stderr).toMatch(/qtrip: 1 error; nothing built\n$/);
  });

  test.each([
    [["build", "r.qt"], "error: required option '--kernel <release>' not specified"],
    [["build", "r.qt", "--kernel", "../etc"], "qtrip: '../etc' is not a kernel release (like 6.1.0-50-amd64, as uname -r prints it)"],
    [["build", "none.qt", "--kernel", kernelRelease], "qtrip: cannot read 'none.qt': no such file"],
    [["build", "r.qt", "--kernel", kernelRelease, "-o", "nodir"], "qtrip: -o nodir: no such directory"],
    [["build", "r.qt", "--kernel", kernelRelease, "-D", "nope=1"], "qtrip: --define nope: no rule file declares a parameter 'nope'"],
  ])("usage: %j → exit 2", (args, message) => {
    const r = qtrip(args, dir);
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(readdirSync(dir)).toEqual(["r.qt"]);
  });

  test("a rule file whose name makes no module name: exit 2", () => {
    const long = `${"x".repeat(60)}.qt`;
    writeFileSync(join(dir, long), RULE);
    const r = qtrip(["build", long, "--kernel", kernelRelease], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`qtrip: '${"x".repeat(60)}' is too long for a module name (${"x".repeat(60)}_guest: at most 55 characters): rename the rule file\n`);
  });

  test("--help lists build", () => {
    expect(qtrip(["--help"], dir).stdout).toMatch(/\n {2}build \[options\] <file> +build FILE's guest script/);
  });
});
