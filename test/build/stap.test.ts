// What qtrip build takes from a generated script's header (stap's build
// options, staprun's load options), which scripts need the kernel's symbol
// table, and how stap's failures are shortened.
import { describe, expect, test } from "vitest";
import { GUEST_STAP_OPTIONS, HOST_STAP_OPTIONS } from "../../src/codegen/stap/index.js";
import { headerRunLines, probesKernelFunctions, shortenStapErrors, stapArgs } from "../../src/codegen/stap/builder/stap.js";
import { compileRule } from "../e2e/support/compile.js";
import { splitOptions } from "../support/stap.js";

describe("the header's run lines", () => {
  test("guest: the header's options are stap's; -G NAME=VALUE becomes staprun's NAME=VALUE", () => {
    const { guest } = compileRule({ source: "param pid: int\nparam comm: string\nwhen syscall latency > 1s on pid $pid\nwhen syscall error on comm $comm\n" });
    expect(guest).toContain(`#   stap ${GUEST_STAP_OPTIONS} -G pid=VALUE -G comm=VALUE rule.guest.stp`);
    expect(headerRunLines(guest)).toEqual([{ build: splitOptions(GUEST_STAP_OPTIONS), staprun: [], params: ["pid=VALUE", "comm=VALUE"] }]);
  });

  test("guest: a parameter given with --define (or its default) is no load option", () => {
    const { guest } = compileRule({ source: "param pid: int\nwhen syscall latency > 1s on pid $pid\n", defines: { pid: "42" } });
    expect(headerRunLines(guest)).toEqual([{ build: splitOptions(GUEST_STAP_OPTIONS), staprun: [], params: [] }]);
  });

  test("host: one build, two ways to name the guest (its VMM's pid; libvirt's pid file)", () => {
    const { host } = compileRule({ source: "when syscall latency > 1s\n" });
    expect(headerRunLines(host)).toEqual([
      { build: splitOptions(HOST_STAP_OPTIONS), staprun: ["-x", "VMM_PID"], params: [], note: "VMM_PID: the guest's QEMU process" },
      { build: splitOptions(HOST_STAP_OPTIONS), staprun: ["-x", "$(cat /run/libvirt/qemu/DOMAIN.pid)"], params: ["qt_pidfile_time=$(stat -c %Y /run/libvirt/qemu/DOMAIN.pid)"], note: "libvirt: DOMAIN is the guest's domain name" },
    ]);
  });

  test("a script without the header is refused, not guessed", () => {
    expect(() => headerRunLines("probe begin { exit() }\n")).toThrow("no 'Run, as root:' header");
  });

  test("stap's command line: -p4, the header's options, the runtime copy, the release, the module name", () => {
    expect(
      stapArgs({ program: "stap", script: "", scriptName: "r.guest.stp", moduleName: "r_guest", release: "6.1.0-50-amd64", options: ["-g"], runtime: "/c/rt" }, "/t/r.guest.stp"),
    ).toEqual(["-p4", "-g", "-R", "/c/rt", "-r", "6.1.0-50-amd64", "-m", "r_guest", "/t/r.guest.stp"]);
  });
});

describe("kprobes on kernel functions need the kernel's symbol table", () => {
  test.each([
    ['when function "vfs_fsync_range" latency > 1s', true],
    ["when event nmi_backtrace", true],
    ['when function "ext4:ext4_sync_file" latency > 1s', false],
    ["when syscall latency > 1s", false],
  ])("%s: %s", (rule, needs) => {
    expect(probesKernelFunctions(compileRule({ source: `${rule}\n` }).guest)).toBe(needs);
  });
});

describe("stap's failures, shortened", () => {
  test("pass 2: the semantic errors, without the count of suppressed ones", () => {
    const stderr = `semantic error: while resolving probe point: identifier 'kprobe' at nf.guest.stp:201:7
        source: probe kprobe.function("qtrip_no_such_function") {
                      ^

semantic error: no match (similar functions: io_wake_function, trace_function)

Number of similar error messages suppressed: 1.
Rerun with -v to see them.
Pass 2: analysis failed.  [man error::pass2]
`;
    expect(shortenStapErrors(stderr)).toBe(`Pass 2: analysis failed
  semantic error: while resolving probe point: identifier 'kprobe' at nf.guest.stp:201:7
  semantic error: no match (similar functions: io_wake_function, trace_function)`);
  });

  test("pass 4 (systemtap 4.8's own runtime on 6.1.0-50's headers, as stap printed it): the compiler's first errors, cut", () => {
    const stderr = `In file included from /usr/share/systemtap/runtime/stp_utrace.c:28,
                 from /tmp/stapQX4shh/t_sys_src.c:21:
/usr/share/systemtap/runtime/stp_task_work.c: In function ‘stp_task_work_cancel’:
/usr/share/systemtap/runtime/stp_task_work.c:107:40: error: passing argument 2 of ‘(bool (*)(struct task_struct *, struct callback_head *))kallsyms_task_work_cancel’ from incompatible pointer type [-Werror=incompatible-pointer-types]
  107 |         twork = task_work_cancel(task, func);
/usr/share/systemtap/runtime/stp_task_work.c:13:26: error: incompatible types when assigning to type ‘struct callback_head *’ from type ‘bool’ {aka ‘_Bool’}
cc1: all warnings being treated as errors
make[1]: *** [/usr/src/linux-headers-6.1.0-50-common/scripts/Makefile.build:255: /tmp/stapQX4shh/t_sys_src.o] Error 1
make: *** [/usr/src/linux-headers-6.1.0-50-common/Makefile:2050: /tmp/stapQX4shh] Error 2
WARNING: kbuild exited with status: 2
Pass 4: compilation failed.  [man error::pass4]
`;
    const short = shortenStapErrors(stderr).split("\n");
    expect(short[0]).toBe("Pass 4: compilation failed");
    expect(short[1]).toMatch(/^ {2}\/usr\/share\/systemtap\/runtime\/stp_task_work\.c:107:40: error: passing argument 2 of .{50,}…$/);
    expect(short[1]!.length).toBe(2 + 160);
    expect(short[2]).toBe("  /usr/share/systemtap/runtime/stp_task_work.c:13:26: error: incompatible types when assigning to type ‘struct callback_head *’ from type ‘bool’ {aka ‘_Bool’}");
    // "cc1: all warnings being treated as errors" says nothing more.
    expect(short).toHaveLength(3);
  });

  test("no error line at all: the last lines", () => {
    expect(shortenStapErrors("Killed\n")).toBe("stap failed\n  Killed");
  });
});
