// `qtrip report` as a user runs it (dist/qtrip): formats, output file, and the
// exit codes of bad input (1, with FILE:LINE:COL and a caret) and bad usage (2).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { qtrip } from "../support/cli.js";
import { SYNTHETIC, SYNTHETIC_META_JSON } from "./synthetic.js";

const VERDICT = "vCPU 0 (tid 1000) did not run guest code for 180 ms of the 220 ms before the trip: runnable for 150 ms behind kworker/1:1 (tid 77, prio 49: realtime 50) on CPU 1, then 30 ms in exits (EXIT_NPF ×1, EXIT_IOIO ×1)";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qtrip-report-cli-"));
  mkdirSync(join(dir, "cap"));
  writeFileSync(join(dir, "cap/trace.txt"), SYNTHETIC);
  writeFileSync(join(dir, "cap/meta.json"), SYNTHETIC_META_JSON);
});

describe("qtrip report", () => {
  test("text: the verdict first, then the evidence", () => {
    const r = qtrip(["report", "cap"], dir);
    expect(r).toMatchObject({ status: 0, stderr: "" });
    expect(r.stdout.split("\n")[0]).toBe(VERDICT);
    expect(r.stdout).toContain("      kworker/1:1 (tid 77, prio 49: realtime 50) on CPU 1: 150 ms\n");
  });

  test("json, svg and html carry the same verdict (one analysis)", () => {
    const json = JSON.parse(qtrip(["report", "cap", "--format", "json"], dir).stdout);
    expect(json).toMatchObject({ version: 1, verdict: { line: VERDICT, cause: "runnable" }, window: { ns: 220e6 } });
    expect(qtrip(["report", "cap", "--format", "svg"], dir).stdout).toMatch(/^<svg [^]*<title>vCPU 0 \(tid 1000\) did not run guest code for 180 ms/);
    const html = qtrip(["report", "cap", "--format", "html", "-o", "r.html"], dir);
    expect(html).toMatchObject({ status: 0, stdout: "", stderr: "wrote r.html\n" });
    expect(readFileSync(join(dir, "r.html"), "utf8")).toContain(`<p class="verdict" id="verdict">${VERDICT}</p>`);
  });

  test("a plain trace with --trip-time, and --window", () => {
    writeFileSync(join(dir, "trace"), SYNTHETIC);
    const r = qtrip(["report", "trace", "--trip-time", "100.300000", "--vmm-pid", "999", "--window", "170ms"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^vCPU 0 \(tid 1000\) did not run guest code for 150 ms of the 170 ms before the trip: runnable for 130 ms behind kworker\/1:1 .*, then 20 ms in exits \(EXIT_NPF ×1, EXIT_IOIO ×1\)$/);
  });

  test("malformed trace: FILE:LINE:COL, the line, a caret, what was expected; exit 1, nothing written", () => {
    writeFileSync(join(dir, "cap/trace.txt"), `${SYNTHETIC}  CPU 0/KVM-1000 [001] d..2. 100.4`);
    const r = qtrip(["report", "cap", "-o", "out.txt"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      [
        "cap/trace.txt:24:3: error: this line is not an ftrace record [E0901]",
        "   |",
        "24 |   CPU 0/KVM-1000 [001] d..2. 100.4",
        "   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "   = note: expected an ftrace record: TASK-PID [CPU] FLAGS SECONDS.MICROS: EVENT: FIELDS",
        "",
      ].join("\n"),
    );
    expect(readdirSync(dir).sort()).toEqual(["cap"]);
  });

  test("bad meta.json: where, and what was expected", () => {
    writeFileSync(join(dir, "cap/meta.json"), '{\n  "tripTimestamp": "soon"\n}\n');
    const r = qtrip(["report", "cap"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^cap\/meta\.json:2:3: error: meta\.json: 'tripTimestamp' expected a number \[E0904\]\n/);
    writeFileSync(join(dir, "cap/meta.json"), '{\n  "tripTimestamp": 1,\n');
    expect(qtrip(["report", "cap"], dir).stderr).toMatch(/^cap\/meta\.json:3:1: error: meta\.json is not JSON: .* \[E0903\]\n/);
  });

  test("meta.json as the ftrace backend's freeze writes it: channel {port, value}, an action, and no trip record", () => {
    const meta = JSON.parse(SYNTHETIC_META_JSON);
    writeFileSync(join(dir, "cap/meta.json"), JSON.stringify({ ...meta, action: "freeze", channel: { port: 1023, value: 31 }, traceClock: "perf" }));
    expect(qtrip(["report", "cap"], dir).stdout.split("\n")[0]).toBe(VERDICT);
    writeFileSync(join(dir, "cap/meta.json"), JSON.stringify({ ...meta, tripTimestamp: null, tripTid: null }));
    const r = qtrip(["report", "cap"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("warning: the capture has no record of the channel write (overwritten?): the window ends at the buffer's last record\n");
  });

  test("an empty trace file", () => {
    writeFileSync(join(dir, "empty"), "");
    const r = qtrip(["report", "empty", "--trip-time", "1.0"], dir);
    expect(r).toMatchObject({ status: 1 });
    expect(r.stderr).toMatch(/^empty:1:1: error: the file is empty \[E0900\]/);
  });

  test.each([
    [["report", "cap", "--window", "soon"], "qtrip: --window soon: a duration such as 250ms or 1.5s\n"],
    [["report", "nothere"], "qtrip: cannot read 'nothere': no such file or directory\n"],
    [["report", "cap/trace.txt"], "qtrip: 'cap/trace.txt' is a plain trace file: give the trip's time with --trip-time SECONDS (as the trace prints it)\n"],
    [["report", "cap", "--trip-time", "1"], "qtrip: --vmm-pid and --trip-time are for a plain trace file; a capture directory has them in meta.json\n"],
  ])("usage error %j: exit 2", (args, message) => {
    expect(qtrip(args, dir)).toMatchObject({ status: 2, stderr: message, stdout: "" });
  });
});
