// `qtrip report` on captures with a known cause, made in one boot of the emulated
// 6.1 KVM host (2 CPUs, kvmguest's vCPU thread on CPU 1): the first line of the
// report must name the cause, and the JSON must agree with it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { run } from "../../../src/cli/main.js";
import { bootHost, matching, type HostBoot } from "./support/emulated-host.js";
import { compileSource } from "../../../src/compile.js";
import { captureDir, dumpDisk, FREEZE_RULE, FREEZE_SCENARIO, freezeCaptureDir, hogEntry, readDumps, reportScenario, REPORT_CASES, type CaseName } from "./support/report-scenarios.js";
import { describeInstalled } from "../../support/installed.js";

const work = mkdtempSync(join(tmpdir(), "qtrip-report-e2e-"));
const CASES = Object.keys(REPORT_CASES) as CaseName[];

async function report(dir: string, format: "text" | "json"): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(["report", dir, "--format", format], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describeInstalled("qemu", "test-kernel", "stap")("qtrip report on scenarios with a known cause (emulated 6.1 host)", { timeout: 900_000 }, () => {
  let boot: HostBoot;
  let dumps: string;
  const text: Partial<Record<CaseName, string>> = {};
  const json: Partial<Record<CaseName, any>> = {};
  beforeAll(async () => {
    const freezeScript = join(work, "freeze.sh");
    writeFileSync(freezeScript, compileSource(FREEZE_RULE, { fileName: "report.qt", hostBackend: "ftrace", hostAction: "freeze" }).outputs!.host);
    const disk = dumpDisk(work);
    boot = await bootHost({
      name: "report-scenarios",
      smp: 2,
      entries: [hogEntry(work), ...disk.entries],
      drives: [disk.drive],
      files: { "lib/qtrip/freeze.sh": freezeScript },
      scenario: `${reportScenario(CASES, disk)}\n${FREEZE_SCENARIO}\nsave_dumps`,
      timeoutMs: 480_000,
    });
    dumps = readDumps(disk, join(work, "dumps"));
    for (const name of CASES) {
      const dir = captureDir(boot, dumps, name, join(work, name));
      const t = await report(dir, "text");
      const j = await report(dir, "json");
      expect(t.err + j.err).toBe("");
      text[name] = t.out;
      json[name] = JSON.parse(j.out);
    }
  }, 900_000);

  it.each(CASES)("%s: the freeze stopped at the channel write and the trace reached the test", (name) => {
    expect(matching(boot.step(`report-${name}`), /^@@ freeze /)).toEqual([`@@ freeze ${name} tracing_on 0`, `@@ freeze dumped ${name}`]);
    expect(readFileSync(join(work, name, "trace.txt"), "utf8")).toMatch(/kvm_pio: pio_write at 0x3ff size 1 count 1 val 0x1f/);
  });

  it("the ftrace backend's freeze: its capture directory, read as it is, gives the starved verdict", async () => {
    const dir = freezeCaptureDir(boot, dumps, join(work, "freeze"));
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    expect(meta).toMatchObject({ case: "E2E-REPORT", action: "freeze", thresholdNs: 200_000_000, channel: { port: 0x3ff, value: 0x1f } });
    const r = await report(dir, "json");
    expect(r).toMatchObject({ code: 0, err: "" });
    const doc = JSON.parse(r.out);
    expect(doc.verdict).toMatchObject({ problem: true, cause: "runnable", tid: meta.tripTid });
    expect(doc.vcpus.find((v: { tid: number }) => v.tid === meta.tripTid).blockers[0]).toMatchObject({ comm: "hog", prio: 49, cpu: 1 });
    expect(doc.verdict.line).toMatch(/^vCPU 0 \(tid \d+, kvmguest\) did not run guest code for \d+ ms of the 220 ms before the trip: runnable for \d+ ms behind hog/);
  });

  it("control: the verdict says the vCPU ran guest code normally", () => {
    expect(text.control!.split("\n")[0]).toMatch(/^vCPU 0 \(tid \d+, kvmguest\) ran guest code normally: /);
    expect(json.control.verdict.problem).toBe(false);
  });

  it("starved: runnable behind the SCHED_FIFO hog on CPU 1", () => {
    const v = json.starved.verdict;
    expect(v.problem).toBe(true);
    expect(v.cause).toBe("runnable");
    expect(text.starved!.split("\n")[0]).toMatch(/^vCPU 0 \(tid \d+, kvmguest\) did not run guest code for \d+ ms of the 220 ms before the trip: runnable for \d+ ms behind hog \(tid \d+, prio 49: realtime 50\) on CPU 1/);
    const vcpu = json.starved.vcpus[0];
    expect(vcpu.blockers[0]).toMatchObject({ comm: "hog", prio: 49, cpu: 1 });
    expect(vcpu.time.runnable).toBeGreaterThan(0.8 * json.starved.window.ns);
  });

  it("stopped: the VMM's SIGSTOP", () => {
    expect(json.stopped.verdict).toMatchObject({ problem: true, cause: "stopped" });
    expect(text.stopped!.split("\n")[0]).toMatch(/did not run guest code for \d+ ms of the 220 ms before the trip: stopped for \d+ ms \(SIGSTOP, or a debugger\)/);
  });

  it("storm: time in exits, port I/O first", () => {
    expect(json.storm.verdict).toMatchObject({ problem: true, cause: "exits" });
    const exits = json.storm.vcpus[0].exits;
    expect(exits[0].reason).toMatch(/io/i);
    expect(exits[0].count).toBeGreaterThan(10);
    expect(text.storm!.split("\n")[0]).toMatch(/ in exits \(\S*io\S* ×\d+/i);
  });
});
