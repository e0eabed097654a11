// The planner, directly: what it decides for a rule file before any backend
// writes a script (tables, events, parts, rings, run-time parameters, the host
// side), and `qtrip compile --emit plan`, with a golden plan for each example
// beside the examples' golden scripts (test/codegen/golden/NAME.plan.json).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runPipeline, STAGES, type CompileOptions } from "../../src/compile.js";
import { RUNTIME_MAX_TIMES } from "../../src/plan/plan.js";
import { runQtrip } from "../support/cli.js";
import { repoRoot } from "../support/stap.js";

function plansOf(source: string, options: Partial<CompileOptions> = {}) {
  const { plans, diagnostics } = runPipeline(source, { fileName: "rule.qt", ...options }, "plan");
  if (!plans) throw new Error(JSON.stringify(diagnostics.map((d) => d.message)));
  return plans;
}


describe("the pipeline, run up to a named stage", () => {
  const products = (source: string, until: (typeof STAGES)[number]) => {
    const p = runPipeline(source, { fileName: "rule.qt" }, until);
    return Object.keys(p).filter((k) => k !== "diagnostics").sort();
  };

  test("each stage adds its product, in the order written once", () => {
    expect(STAGES).toEqual(["parse", "check", "plan", "emit"]);
    const rule = "when syscall latency > 1s on pid 1\n";
    expect(STAGES.map((stage) => products(rule, stage))).toEqual([["ast"], ["ast", "checked"], ["ast", "checked", "plans"], ["ast", "checked", "outputs", "plans"]]);
  });

  test("a stage that gives an error stops the pipeline there, with every diagnostic so far in file order", () => {
    expect(products("when syscall latency\n", "emit")).toEqual(["ast"]);
    const p = runPipeline("when syscall latency >\nparam unused: int\nwhen x y\n", { fileName: "rule.qt" }, "emit");
    expect(p.diagnostics.map((d) => `${d.span.start.line} ${d.code}`)).toEqual(["1 E0010", "2 W0001", "3 E0140"]);
    expect(p.checked).toBeUndefined();
  });
});

describe("the guest plan", () => {
  test("rules that time the same thing share one table; each table keeps its rules' own tests", () => {
    const { guest } = plansOf("when syscall read latency > 1s on pid 1\nwhen syscall write latency > 2s on pid 2\nwhen io latency > 1s on device \"vda\"\n");
    expect(guest.tables.map((t) => [t.name, t.rules.map((r) => r.rule.index)])).toEqual([
      ["syscall", [0, 1]],
      ["io", [2]],
    ]);
    expect(guest.tables[0].rules.map((r) => r.select)).toEqual([[{ kind: "syscall-is", numbers: [0] }], [{ kind: "syscall-is", numbers: [1] }]]);
    expect(guest.events).toEqual([]);
  });

  test("a condition seen where it happens is an event rule, not a table", () => {
    const { guest } = plansOf("when signal SIGKILL\n");
    expect(guest.tables).toEqual([]);
    expect(guest.events.map((e) => [e.rule.index, e.at.on, e.select])).toEqual([[0, "signal-sent", [{ kind: "signal-is", number: 9 }]]]);
  });

  test("a sequence's first condition is a part of its own, numbered after the file's rules", () => {
    const { guest } = plansOf("when signal SIGSTOP then syscall read latency > 1s on pid 7 within 5s\nwhen signal SIGKILL\n");
    expect(guest.parts.map((p) => [p.index, p.entry.id])).toEqual([
      [0, "syscall-latency"],
      [1, "signal"],
      [2, "signal"],
    ]);
    expect(guest.parts[0].sequence?.first).toBe(guest.parts[2]);
  });

  test("rings: N for `N times within D`, none for once, the largest for a run-time N", () => {
    const { guest } = plansOf("param n: int\nwhen signal SIGKILL 3 times within 1s\nwhen signal SIGTERM\nwhen signal SIGHUP $n times within 1s\nwhen signal SIGINT 1 times within 1s\n");
    expect(guest.ringSizes).toEqual([3, 0, RUNTIME_MAX_TIMES, 0]);
  });

  test("only parameters given when the script starts are run-time parameters; --dry-run reaches the plan", () => {
    const { guest } = plansOf("param lag: duration\nparam who: string = \"qemu\"\nwhen vcpu stall > $lag\nwhen signal SIGKILL on comm $who\n", { dryRun: true });
    expect(guest.runtimeParams.map((p) => p.name)).toEqual(["lag"]);
    expect(guest.dryRun).toBe(true);
  });
});

describe("the host plan", () => {
  test("the longest constant threshold of any part, the channel, the case and the host choice", () => {
    const source = 'case "42"\nchannel port 0x2f0 value 0x2\nparam lag: duration\nwhen signal SIGSTOP then syscall fsync latency > 1s on pid 7 within 5s\nwhen vcpu stall > 3s\nwhen tick gap > $lag\n';
    const { host, hostBackend } = plansOf(source, { hostBackend: "ftrace", hostAction: "log", libvirtDomain: "db1" });
    expect(hostBackend.name).toBe("ftrace");
    expect(host).toMatchObject({ channel: { port: 0x2f0, value: 2 }, caseId: "42", thresholdNs: 3_000_000_000n, action: "log", probe: "kvm_pio", vmm: { kind: "libvirt", domain: "db1" } });
  });
});

describe("qtrip compile --emit plan", () => {
  const examples = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".qt")).sort();

  test.each(examples)("%s: golden plan", async (name) => {
    const r = await runQtrip(["compile", "--emit", "plan", join("examples", name)]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const [plan, ...more] = JSON.parse(r.stdout) as unknown[];
    expect(more).toEqual([]);
    await expect(`${JSON.stringify(plan, null, 2)}\n`).toMatchFileSnapshot(`../codegen/golden/${name.replace(/\.qt$/, ".plan.json")}`);
  });

  test("one entry per input, in order; the host options reach the host plan; nothing is written", async () => {
    const r = await runQtrip(["compile", "--emit", "plan", "--host-backend", "bpf", "--any-guest", "examples/hung-tasks.qt", "examples/io-stall.qt"]);
    expect(r.status, r.stderr).toBe(0);
    const plans = JSON.parse(r.stdout) as { file: string; host: { backend: string; vmm: unknown }; guest: { parts: { condition: string }[] } }[];
    expect(plans.map((p) => [p.file, p.host.backend, p.host.vmm])).toEqual([
      ["examples/hung-tasks.qt", "bpf", { kind: "any" }],
      ["examples/io-stall.qt", "bpf", { kind: "any" }],
    ]);
    expect(readdirSync(join(repoRoot, "examples")).filter((f) => !f.endsWith(".qt"))).toEqual([]);
  });

  test("a file with an error prints its diagnostics and no plan; -o is a usage error", async () => {
    const bad = await runQtrip(["compile", "--emit", "plan", "test/check/ui/threshold-missing.qt"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^test\/check\/ui\/threshold-missing\.qt:1:6: error: .* \[E0146\]\n[\s\S]*\nqtrip: 1 error; nothing printed\n$/);
    const usage = await runQtrip(["compile", "--emit", "plan", "-o", "/tmp", "examples/io-stall.qt"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("qtrip: --emit plan prints the plan and writes no file: -o has nothing to write\n");
  });

  test("`counting pauses` shows as countsPauses: true on its part only (a sequence's B, not its A); the default adds nothing", async () => {
    const r = await runQtrip(["compile", "--emit", "plan", "test/check/ui/pauses-counted.qt"]);
    expect(r.status, r.stderr).toBe(0);
    const [{ guest }] = JSON.parse(r.stdout) as { guest: { parts: { index: number; condition: string; countsPauses?: unknown }[] } }[];
    const counted = guest.parts.filter((p) => "countsPauses" in p);
    expect(counted.every((p) => p.countsPauses === true)).toBe(true);
    expect(counted.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(guest.parts.find((p) => p.index === 8)).toMatchObject({ condition: "vcpu-stall" });
    expect("countsPauses" in guest.parts.find((p) => p.index === 8)!).toBe(false);
  });

  test("the golden plans stay readable: no source text, numbers past 2^53 as strings", () => {
    const text = readFileSync(join(repoRoot, "test/codegen/golden/fsync-storms.plan.json"), "utf8");
    expect(text).not.toContain("when syscall");
    expect(JSON.parse(text).guest.parts[0].threshold).toEqual({ op: ">=", ns: "500000000" });
  });
});
