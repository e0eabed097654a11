// Per-spec tests of the condition specs: every condition is described fully,
// generates its probes, refuses filters it lacks, and shares handlers.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { specs } from "../../stdlib/index.js";
import { checkSource, compileSource } from "../../src/compile.js";
import { sources } from "../../src/explain/sources.js";
import { ATTRIBUTE_NAMES, ATTRIBUTES, tables } from "../../stdlib/index.js";
import { repoRoot } from "../support/stap.js";

function guestOf(source: string): string {
  const result = compileSource(source, { fileName: "rule.qt" });
  if (!result.outputs) throw new Error(JSON.stringify(result.diagnostics.map((d) => d.message)));
  return result.outputs.guest;
}

function probeCount(script: string, probe: string): number {
  return script.split("\n").filter((line) => line.startsWith(`probe ${probe}`)).length;
}

/**
 * A point as SystemTap reads it: `sources` says "A on 5.19+ kernels, B before" where the
 * script chooses by the target's kernel when it is built.
 */
function probePoint(said: string): string {
  const m = /^(.*) on (\S+)\+ kernels, (.*) before$/.exec(said);
  return m ? `%( kernel_v >= "${m[2]}" %? ${m[1]} %: ${m[3]} %)` : said;
}

/** The logged line's text and length, read from printk:console on 5.19+ and formatted at vprintk_emit() before. */
const LINE = '%( kernel_v >= "5.19" %? $text %: qt_logged_text() %), %( kernel_v >= "5.19" %? $len %: qt_logged_length() %)';
/** A probe point as `qtrip sources` names it. */
const PROBE_POINT = /(?:kernel\.trace|kprobe\.(?:module|function)|timer\.\w+)\([^)]*\)(?:\.function\("[^"]*"\))?(?:\.return)?(?:\.maxactive\(\d+\))?/g;

describe.each(specs.map((e) => [e.id, e] as const))("%s", (_id, entry) => {
  const source = sources().find((s) => s.condition === entry.id)!;

  test("is described in its spec", () => {
    expect(entry.syntax.startsWith(entry.head)).toBe(true);
    // `qtrip sources` names the probe points its example's script really has (and the in-flight scan, an hrtimer).
    const guest = guestOf(`${entry.example}\n`);
    const points = source.probes.map((p) => p.match(PROBE_POINT) ?? []);
    expect(source.probes.filter((p, i) => (points[i]!.length === 0 ? !p.includes("hrtimer") : points[i]!.some((point) => !guest.includes(point))))).toEqual([]);
    expect(points.flat()).toContainEqual(expect.stringMatching(/^(kernel\.trace|kprobe|timer)/));
    expect(entry.attributes).toContain("cpu");
  });

  test("its example compiles and probes what `qtrip sources` says", () => {
    const guest = guestOf(entry.example);
    // The scan is no probe point: an hrtimer of the fragments' C, which trips with the labels the begin probe copied.
    const points = source.probes.filter((p) => !p.endsWith("(scan)"));
    for (const probe of points) expect(guest).toContain(`probe ${probePoint(probe.replace(/ \((start|stop)\)$/, ""))}`);
    expect(guest).toContain(points.length < source.probes.length ? "qt_set_label(" : "qt_trip_rule(");
  });

  test("refuses the filters it does not have", () => {
    const missing = ATTRIBUTE_NAMES.filter((a) => !entry.attributes.includes(a));
    for (const attribute of missing) {
      const value = ATTRIBUTES[attribute].type === "string" ? '"x"' : "1";
      const rule = `${entry.example.replace(/ on .*$| \d+ times.*$| after .*$/, "")} on ${attribute} ${value}`;
      const codes = checkSource(rule, { fileName: "rule.qt" }).diagnostics.map((d) => d.code);
      expect(codes, rule).toContain("E0151");
    }
  });

  test("has an example rule file in examples/", () => {
    const files = readdirSync(join(repoRoot, "examples")).map((f) => readFileSync(join(repoRoot, "examples", f), "utf8"));
    const uses = files.some((text) => checkSource(text, { fileName: "x.qt" }).checked?.rules.some((r) => r.entry.id === entry.id));
    expect(uses).toBe(true);
  });
});

describe("code generation details", () => {
  test("rules on the same probe point share one handler", () => {
    const guest = guestOf("when syscall latency > 1s on pid 1\nwhen syscall latency > 2s on pid 2\nwhen syscall read error on pid 3");
    expect(probeCount(guest, 'kernel.trace("raw_syscalls:sys_enter")')).toBe(1);
    expect(probeCount(guest, 'kernel.trace("raw_syscalls:sys_exit")')).toBe(1);
    // One scan timer per table, armed from C: no periodic timer probe.
    expect(guest).not.toContain("timer.ms(");
    expect(probeCount(guest, "begin(-1)")).toBe(1);
    // One handler at sys_exit: it stops the timing and tests the error rule.
    const exit = guest.slice(guest.indexOf('probe kernel.trace("raw_syscalls:sys_exit")'));
    expect(exit.slice(0, exit.indexOf("\n}"))).toMatch(/qt_stop\(0, tid\(\)\)[\s\S]*\$ret < 0/);
  });

  test("filters come before any table write, cheapest first", () => {
    const guest = guestOf('when syscall futex latency > 1s on comm "x" and pid 7');
    expect(guest).toContain('if (pid() == 7 && $id == 202 && !qt_compat_task() && execname() == "x") qt_rules |= 0x1');
    expect(guest).toContain("if (qt_rules) qt_start(0, tid(), qt_rules)");
  });

  test("syscall error: errno names are compared with the negated result, call numbers with orig_ax", () => {
    expect(guestOf("when syscall openat error ENOENT, EACCES")).toContain(
      "if (($ret == -2 || $ret == -13) && $regs->orig_ax == 257 && !qt_compat_task()) {",
    );
  });

  test("io latency filters on the disk and stops on completion and requeue", () => {
    const guest = guestOf('when io latency > 5s on device "vda"');
    expect(guest).toContain('kernel_string(@choose_defined($rq->q->disk, $rq->rq_disk)->disk_name) == "vda"');
    expect(guest).toContain('probe kernel.trace("block:block_rq_complete")');
    expect(guest).toContain('probe kernel.trace("block:block_rq_requeue")');
  });

  test("sched latency times the woken task, keyed by its tid", () => {
    const guest = guestOf('when sched latency >= 50ms on comm "qemu-ga" and cpu 2');
    expect(guest).toContain('probe kernel.trace("sched:sched_wakeup"), kernel.trace("sched:sched_wakeup_new") {');
    expect(guest).toContain('if (task_cpu($p) == 2 && kernel_string($p->comm) == "qemu-ga") qt_rules |= 0x1');
    // A task woken while still on its CPU never waited: not timed.
    expect(guest).toContain("if ($p->pid != 0 && @choose_defined($p->on_cpu, 0) == 0 && qt_rules) qt_start(0, $p->pid, qt_rules)");
    expect(guest).toContain("qt_stop(0, $next->pid)");
    // A task that leaves a CPU had one, whatever started its timing.
    expect(guest).toContain("qt_stop(0, $prev->pid)");
  });

  test("a thread that execs from a thread other than the leader is forgotten under its old id", () => {
    for (const rule of ["when syscall latency > 1s", 'when function "vfs_read" latency > 1s', "when sched latency > 1s", "when task blocked > 1s"]) {
      const guest = guestOf(rule);
      expect(guest, rule).toContain('probe kernel.trace("sched:sched_process_exec") {\n\tif ($old_pid != $p->pid) qt_stop(0, $old_pid)\n}');
    }
  });

  test("oom_kill filters read the victim, not the current task", () => {
    const guest = guestOf('when event oom_kill on comm "mysqld" and uid 27');
    expect(guest).toContain(
      'if (task_uid(@choose_defined($task, pid2task($pid))) == 27 && task_execname(@choose_defined($task, pid2task($pid))) == "mysqld") {',
    );
  });

  test("a function's place is decided where the script runs: MODULE:NAME in its module, a plain NAME in the image, else any module", () => {
    const module = guestOf('when function "ext4:ext4_sync_file" latency > 1s');
    expect(module).toContain('probe kprobe.module("ext4").function("ext4_sync_file") {');
    expect(module).toContain('probe kprobe.module("ext4").function("ext4_sync_file").return.maxactive(1024) {');
    const plain = guestOf('when function "vfs_fsync_range" latency > 1s');
    expect(plain).toContain('probe kprobe.function("vfs_fsync_range") !, kprobe.module("*").function("vfs_fsync_range") {');
    expect(plain).toContain(
      'probe kprobe.function("vfs_fsync_range").return.maxactive(1024) !, kprobe.module("*").function("vfs_fsync_range").return.maxactive(1024) {',
    );
    for (const guest of [module, plain]) {
      // SystemTap's walk is removed before the probes register, and its registrations go through qtrip's placement.
      expect(guest).toContain("qt_kernel_resolves_module_symbols() # before kprobe.module() probes are registered");
      expect(guest).toContain("#define register_kprobe qt_register_kprobe");
      expect(guest).toContain("#define register_kretprobe qt_register_kretprobe");
    }
    // The kernel names a module with '_' where its file has '-'.
    expect(guestOf('when function "virtio-blk:virtio_queue_rq" latency > 1s')).toContain('probe kprobe.module("virtio_blk").function("virtio_queue_rq") {');
    // Other kprobe scripts keep SystemTap's registration.
    expect(guestOf("when reclaim stall > 1s")).not.toContain("qt_register_kprobe");
  });

  test("tick gap stamps for its watcher and checks on the CPU's own tick, and forgets idle time", () => {
    const guest = guestOf("when tick gap > 100ms on cpu 1");
    // The local APIC timer's interrupt carries the tick: no interrupt of its own (timer.profile is a 1 kHz perf event).
    // The stamp is never true: the previous online CPU watches it while the gap lasts (fragments/vcpu-watch.ts).
    expect(guest).toContain('probe kernel.trace("irq_vectors:local_timer_entry") {');
    expect(guest).toContain("if (cpu() == 1 && (qt_vcpu_progress(0x1) || qt_exceeds(0, qt_gap))) {");
    expect(guest).toContain("static enum hrtimer_restart qt_watch_fire(struct hrtimer *timer)");
    expect(guest).toContain('probe kernel.trace("power:cpu_idle") {\n\tqt_cpu_idle($state)\n}');
  });

  test("message text reaches the script as a string argument", () => {
    expect(guestOf('when message "I/O error"')).toContain(`qt_text_contains(${LINE}, "I/O error")`);
  });

  test('on context reads where the line was logged, and only a rule that filters on it carries the check', () => {
    const kernel = guestOf('when message "I/O error" on context "kernel"');
    expect(kernel).toContain(`if ((qt_logged_from_kernel() ? "kernel" : "user") == "kernel" && %( kernel_v >= "5.19" %? 1 %: qt_logged_line() %) && qt_text_contains(${LINE}, "I/O error")) {`);
    expect(kernel).toContain("STAP_RETURN(!in_task() || (current->flags & PF_KTHREAD));");
    expect(guestOf('when message "segfault" on context "user"')).toContain('(qt_logged_from_kernel() ? "kernel" : "user") == "user"');
    expect(guestOf('when message "I/O error"')).not.toContain("qt_logged_from_kernel");
  });

  test.each([
    // The watchdog's own line, at its start, logged from its hard-irq timer: not a user's words anywhere in a line.
    ["softlockup", `qt_text_starts(${LINE}, "watchdog: BUG: soft lockup - CPU#") && qt_logged_in_hardirq()`],
    ["hung_task", 'probe kernel.trace("sched:sched_process_hang") {'],
    ["rcu_stall", 'probe %( kernel_v >= "5.13" %? kernel.trace("rcu:rcu_stall_warning") %: kprobe.function("vprintk_emit") %) {'],
    // Before 5.13: RCU's line, at its start, logged from an interrupt or a kernel thread.
    ["rcu_stall", 'qt_text_starts(qt_logged_text(), qt_logged_length(), "rcu: INFO: ") && ('],
    ["rcu_stall", '" self-detected stall on CPU") || qt_text_contains(qt_logged_text(), qt_logged_length(), " detected expedited stalls on CPUs/tasks:")) && qt_logged_from_kernel() %)'],
    ["oom_kill", 'probe kernel.trace("oom:mark_victim")'],
    ["nmi_backtrace", 'probe kprobe.function("nmi_trigger_cpumask_backtrace") !, kprobe.function("nmi_cpu_backtrace")'],
    ["panic", 'probe kprobe.function("panic") !, kprobe.function("vpanic")'],
  ])("event %s", (name, expected) => {
    expect(guestOf(`when event ${name}`)).toContain(expected);
  });

  test("an event rule counts only after every filter held", () => {
    expect(guestOf('when syscall openat error ENOENT on comm "x" 5 times within 2s')).toContain(
      'if ($ret == -2 && $regs->orig_ax == 257 && !qt_compat_task() && execname() == "x" && qt_count(0, 1)) {',
    );
  });

  test("signal compares the signal number", () => {
    expect(guestOf("when signal SIGKILL")).toContain("if ($sig == 9 && $result == 0) {");
  });

  test.each([
    ["event bogus", "E0145"],
    ["signal SIGKIL", "E0144"],
    ["event warn, oops", "E0141"],
    ["io latency > 5", "E0121"],
    ['function "ext4 sync" latency > 1s', "E0148"],
    // A comparison makes the text a pattern: it needs a number, with a unit to compare with a duration.
    ['message "x" > 1s', "E0190"],
    ['message "x %u" > 1s', "E0193"],
    ["tick gap", "E0146"],
  ])("misuse: %s", (condition, code) => {
    expect(checkSource(`when ${condition}`, { fileName: "rule.qt" }).diagnostics.map((d) => d.code)).toContain(code);
  });
});

describe("generated names never meet parameter names", () => {
  // Parameters become globals named as in the rule file; the checker reserves qt_ for qtrip.
  const dir = join(repoRoot, "examples");
  const assignedIn = (script: string) =>
    [...script.replace(/%\{[\s\S]*?%\}/g, "").matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|\|=)[^=]/gm)].map((m) => m[1]);

  test("the assignment finder sees SystemTap assignments, not embedded C or comparisons", () => {
    expect(assignedIn("probe x {\n\tqt_a = 1\n\tb |= 2\n\tif (c == 3) d = 4\n}\n%{\n\te = 5;\n%}\n")).toEqual(["qt_a", "b"]);
  });

  test.each(readdirSync(dir))("%s: every variable the script assigns starts with qt_", (name) => {
    const source = readFileSync(join(dir, name), "utf8");
    const outputs = compileSource(source, { fileName: name, dryRun: false }).outputs!;
    expect([...assignedIn(outputs.guest), ...assignedIn(outputs.host)].filter((v) => !v.startsWith("qt_"))).toEqual([]);
  });

  test("a parameter named like a former generated local keeps its value", () => {
    const guest = guestOf("param rules: int\nparam lag: duration\nparam lag_ns: int\nwhen syscall latency > $lag on pid $rules and uid $lag_ns");
    expect(guest).toContain("if (pid() == rules && uid() == lag_ns) qt_rules |= 0x1");
    expect(guest).toContain("qt_lag_ns = qt_parse_duration(lag)");
  });
});

describe("calls that block by design", () => {
  test.each(specs.filter((e) => e.blocksByDesign).map((e) => [e.id, e] as const))("%s: every name is in its table", (_id, entry) => {
    const part = entry.pattern.find((p) => "names" in p && p.arg === entry.blocksByDesign!.arg)!;
    const table = tables["names" in part ? part.names : "syscall"];
    const { names, onStreams } = entry.blocksByDesign!;
    expect([...names, ...onStreams].filter((n) => !Object.hasOwn(table, n))).toEqual([]);
    expect(names.filter((n) => onStreams.includes(n))).toEqual([]);
  });
});
