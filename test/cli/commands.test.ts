import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { specs } from "../../stdlib/index.js";
import { qtrip } from "../support/cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qtrip-cmd-"));
});

describe("qtrip check", () => {
  test("--format json: one document with positions, codes and suggestions; exit 1; nothing written", () => {
    writeFileSync(join(dir, "bad.qt"), "param pid: int\nwhen syscall latncy > 1s on pid $pid\nwhen io latency > 1s on pdi 2\n");
    const r = qtrip(["check", "--format", "json", "bad.qt"], dir);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ files: 1, errors: 2 });
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({ file: "bad.qt", line: 2, column: 14, endLine: 2, endColumn: 20, severity: "error", code: "E0141", suggestion: "did you mean 'latency'?" }),
      expect.objectContaining({ file: "bad.qt", line: 3, column: 25, endLine: 3, endColumn: 28, code: "E0150", message: "unknown filter 'pdi'" }),
    ]);
    expect(readdirSync(dir)).toEqual(["bad.qt"]);
  });

  test("text: ok files are named, exit 0, nothing written", () => {
    writeFileSync(join(dir, "good.qt"), "when syscall latency > 1s\n");
    expect(qtrip(["check", "good.qt"], dir)).toMatchObject({ status: 0, stdout: "good.qt: ok\n" });
    expect(readdirSync(dir)).toEqual(["good.qt"]);
  });

  test("warnings do not fail the check", () => {
    writeFileSync(join(dir, "w.qt"), "param pid: int\nwhen syscall fsync latency > 1s\n");
    const r = qtrip(["check", "--format", "json", "w.qt"], dir);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { code: string }) => d.code)).toEqual(["W0001"]);
  });
});

describe("qtrip sources", () => {
  test("lists every condition with its filters", () => {
    const r = qtrip(["sources", "--format", "json"], dir);
    expect(r.status).toBe(0);
    const listed = JSON.parse(r.stdout);
    expect(listed).toHaveLength(specs.length);
    expect(listed.map((s: { syntax: string }) => s.syntax.split(" ")[0])).toEqual(specs.map((e) => e.head));
    expect(listed.find((s: { condition: string }) => s.condition === "io-latency").filters).toContain("device");
    expect(listed.find((s: { condition: string }) => s.condition === "tick-gap").filters).toEqual(["cpu"]);
    // Which conditions take `counting pauses`, and why the others do not (E0163's note).
    expect(listed.find((s: { condition: string }) => s.condition === "task-blocked").pauses).toContain("`counting pauses` counts them");
    expect(listed.find((s: { condition: string }) => s.condition === "vcpu-stall").pauses).toMatch(/^`counting pauses` is refused \(E0163\): a pause stops every vCPU/);
    const text = qtrip(["sources"], dir).stdout;
    for (const entry of specs) expect(text).toContain(`${entry.syntax}\n  holds:`);
  });
});

describe("qtrip explain", () => {
  test("says what the rule watches, when it trips, and what the host does", () => {
    writeFileSync(join(dir, "r.qt"), 'case "42"\nwhen syscall fsync latency >= 500ms on comm "postgres" 3 times within 1m as "fsync storm"\n');
    const r = qtrip(["explain", "--host-action", "panic", "r.qt"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('r.qt: 1 rule, case "42".');
    expect(r.stdout).toContain('Watches system calls fsync, only for task named "postgres".');
    expect(r.stdout).toContain("Trips when one has lasted at least 500 ms, seen while it still lasts (checked the moment it could have), once this has happened 3 times within 1 min.");
    expect(r.stdout).toContain("calls panic()");
    expect(r.stdout).toContain("only from the chosen guest (its VMM process, given with stap -x PID, and that process's vCPU threads)");
    expect(qtrip(["explain", "--any-guest", "r.qt"], dir).stdout).toContain("from ANY guest on the hypervisor (--any-guest)");
  });

  test("names the probe points the rule's script really uses", () => {
    writeFileSync(join(dir, "e.qt"), "when event hung_task\nwhen syscall latency > 200ms\n");
    const out = qtrip(["explain", "e.qt"], dir).stdout;
    expect(out).toContain('  Probes: kernel.trace("sched:sched_process_hang").\n');
    expect(out).toContain('  Probes: kernel.trace("raw_syscalls:sys_enter") (start), kernel.trace("raw_syscalls:sys_exit") (stop), kernel.trace("sched:sched_process_exit") (stop), kernel.trace("sched:sched_process_exec") (stop), a one-shot hrtimer in the script\'s own C, at the first moment one could cross its threshold (scan).\n');
    // What ends a timing, and that the console cannot delay the write.
    expect(out).toContain(
      "  Stops timing one when the call returned; the thread exited before it ended (exit, exit_group, or killed while blocked); the thread exec'd from a thread other than its process's leader, and took the leader's pid.\n",
    );
    expect(out).toContain('writes byte 0x1f to I/O port 0x3ff at once; the consoles print the line afterwards, so a busy console cannot delay the write.');
  });

  test("says what an unprivileged guest user can trip, and what not", () => {
    writeFileSync(join(dir, "u.qt"), 'when message "detected stall"\nwhen message "I/O error" on context "kernel"\nwhen event softlockup\n');
    const out = qtrip(["explain", "u.qt"], dir).stdout;
    expect(out).toContain("so this rule can be tripped by any user of the guest");
    expect(out).toContain('Watches kernel log lines containing "I/O error", only for lines logged in the context "kernel".');
    expect(out).toContain("the same words logged by a user task (a program named after them that crashes) do not count");
    expect(out).toContain('  Probes: kernel.trace("printk:console") on 5.19+ kernels, kprobe.function("vprintk_emit") before.\n');
  });

  test("a sequence: both conditions, the window, that the first never trips, how the count combines", () => {
    writeFileSync(join(dir, "s.qt"), "when tick gap > 100ms on cpu 1 then vcpu stall > 200ms within 5s 2 times within 1m\n");
    const out = qtrip(["explain", "s.qt"], dir).stdout;
    expect(out).toContain("s.qt: 1 rule.");
    expect(out).toContain("  A sequence: the second condition counts only within 5 s after the first; each time the first holds, the window starts again.\n");
    expect(out).toMatch(/ {2}First, watches .*, only for CPU 1\.\n {2}Probes: kernel\.trace\("irq_vectors:local_timer_entry"\)/);
    expect(out).toContain(
      "  The first holds when a busy CPU's last tick is longer than 100 ms old: seen from the previous online CPU while the gap lasts (as `vcpu stall`), else on the CPU's own first tick back: it opens the window, it never trips by itself.\n",
    );
    expect(out).toMatch(/ {2}Then, watches /);
    expect(out).toContain(", if that moment falls within 5 s after the latest time the first condition held, once this has happened 2 times within 1 min (counting only those in a window).\n");
  });

  test("a number in a log line: where the pattern reads it, and what it is compared with", () => {
    writeFileSync(join(dir, "n.qt"), 'param depth: int\nwhen message "read-back delay of %uns" >= 500us\nwhen message "queue depth %u," > $depth on context "kernel"\n');
    const out = qtrip(["explain", "n.qt"], dir).stdout;
    expect(out).toContain('  Watches kernel log lines with "read-back delay of ", a number (in ns), then "ns", anywhere in the guest.\n');
    expect(out).toContain("  Trips when a line's number is at least 500 µs (the line's number read in ns), the first time.\n");
    expect(out).toContain("  Trips when a line's number is above $depth (given with -G depth=… when the guest script starts), the first time.\n");
    expect(out).toContain("the number compared is the first place in the line where the text before it, the digits and the text after it all match");
  });

  test("a rule that counts pauses says so; the default says nothing of pauses", () => {
    writeFileSync(join(dir, "p.qt"), "when syscall pread64 latency > 200ms counting pauses\nwhen tick gap > 100ms\n");
    const out = qtrip(["explain", "p.qt"], dir).stdout;
    expect(out).toContain(
      "  Trips when one has lasted longer than 200 ms, seen while it still lasts (checked the moment it could have), the first time; the hypervisor's pauses of the whole guest count in its durations (the last 16 in each, at most).\n",
    );
    expect(out.match(/pauses of the whole guest count/g)).toHaveLength(1);
  });

  test("a wrong rule is reported as by compile", () => {
    writeFileSync(join(dir, "r.qt"), "when syscall latency > 1\n");
    const r = qtrip(["explain", "r.qt"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("r.qt:1:24: error: a threshold must be a duration, not a bare number [E0121]");
  });
});
