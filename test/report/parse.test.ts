// The ftrace text reader: each kernel's layout, trace-cmd report's, and bad input.
import { describe, expect, test } from "vitest";
import { renderText } from "../../src/diagnostics/render.js";
import { parseTrace, TraceError } from "../../src/report/parse.js";
import { SYNTHETIC } from "./synthetic.js";

function failure(text: string): string {
  try {
    parseTrace(text);
  } catch (e) {
    if (e instanceof TraceError) return renderText(e.diagnostic, { name: "trace.txt", text });
    throw e;
  }
  throw new Error("no error");
}

describe("records", () => {
  test("6.1's layout: five flag characters, task names with spaces, stack traces", () => {
    const { events, entries } = parseTrace(SYNTHETIC);
    expect(entries).toEqual({ inBuffer: 9, written: 9 });
    expect(events.map((e) => e.kind)).toEqual(["kvm_entry", "kvm_exit", "sched_switch", "sched_switch", "kvm_entry", "kvm_exit", "other", "stack"]);
    expect(events[2]).toMatchObject({ comm: "CPU 0/KVM", tid: 1000, cpu: 1, t: 100.11e9, prevComm: "CPU 0/KVM", prevState: "R+", nextComm: "kworker/1:1", nextTid: 77, nextPrio: 49 });
  });

  test("5.10's layout (four flag characters) and the tgid column", () => {
    const [e510] = parseTrace("   CPU 0/KVM-4242    [003] d...   812.000001: kvm_exit: reason EXIT_IOIO rip 0x1004 info 3ff0010 1005\n").events;
    expect(e510).toMatchObject({ kind: "kvm_exit", reason: "EXIT_IOIO", tid: 4242, cpu: 3, t: 812.000001e9 });
    const [tgid] = parseTrace("   kvmguest-151     (    151) [001] d..2.    52.123456789: kvm_entry: vcpu 0, rip 0x1000\n").events;
    expect(tgid).toMatchObject({ kind: "kvm_entry", tid: 151, vcpu: 0, t: 52.123456789e9 });
  });

  test("trace-cmd report's text: no flags, its own sched_switch and sched_wakeup", () => {
    const text = [
      "cpus=2",
      "       kvmguest-151   [001]    52.100000: sched_switch:         kvmguest:151 [120] R ==> hog:160 [49]",
      "            hog-160   [001]    52.300000: sched_wakeup:         kvmguest:151 [120] CPU:001",
      "",
    ].join("\n");
    const [sw, wake] = parseTrace(text).events;
    expect(sw).toMatchObject({ kind: "sched_switch", prevComm: "kvmguest", prevTid: 151, prevState: "R", nextComm: "hog", nextTid: 160, nextPrio: 49 });
    expect(wake).toMatchObject({ kind: "sched_wakeup", wakeTid: 151, prio: 120, targetCpu: 1 });
  });
});

describe("bad input: file:line:col, a caret, what was expected", () => {
  test("a line that is not a record", () => {
    expect(failure(`${SYNTHETIC}garbage here\n`)).toBe(
      [
        "trace.txt:24:1: error: this line is not an ftrace record [E0901]",
        "   |",
        "24 | garbage here",
        "   | ^^^^^^^^^^^^",
        "   = note: expected an ftrace record: TASK-PID [CPU] FLAGS SECONDS.MICROS: EVENT: FIELDS",
      ].join("\n"),
    );
  });

  test("a truncated last line", () => {
    const cut = SYNTHETIC.split("\n").slice(0, 15).join("\n") + "\n       CPU 0/KVM-1000    [001] d..2.   100.1";
    expect(failure(cut)).toMatch(/^trace\.txt:16:8: error: this line is not an ftrace record \[E0901\]\n/);
  });

  test("a known event whose fields are not the kernel's", () => {
    const text = "  CPU 0/KVM-1000 [001] d..2. 1.000000: sched_switch: prev_comm=a prev_pid=1\n";
    expect(failure(text)).toBe(
      [
        "trace.txt:1:54: error: the sched_switch event's fields are not as the kernel prints them [E0902]",
        "  |",
        "1 |   CPU 0/KVM-1000 [001] d..2. 1.000000: sched_switch: prev_comm=a prev_pid=1",
        "  |                                                      ^^^^^^^^^^^^^^^^^^^^^^",
        "  = note: expected prev_comm=… prev_pid=N prev_prio=N prev_state=S ==> next_comm=… next_pid=N next_prio=N",
      ].join("\n"),
    );
  });

  test("an empty file, and one with only the header", () => {
    expect(failure("")).toMatch(/^trace\.txt:1:1: error: the file is empty \[E0900\]/);
    expect(failure("# tracer: nop\n#\n")).toMatch(/^trace\.txt:2:1: error: no ftrace records in this file \(only comments or blank lines\) \[E0900\]/);
  });
});
