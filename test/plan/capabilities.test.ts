// The plan's capabilities as the contract between the planner and the guest
// backend: what each rule needs, where the file first needs it, and the E0149
// diagnostic when the backend lacks one (the SystemTap backend, the only one,
// supports them all, so a backend that lacks one is made here).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runPipeline } from "../../src/compile.js";
import { GUEST_BACKEND } from "../../src/codegen/guest-backend.js";
import { CAPABILITIES, capabilityDiagnostics, type Capability, type GuestPlan } from "../../src/plan/plan.js";
import { repoRoot } from "../support/stap.js";

function planOf(source: string): GuestPlan {
  const { plans, diagnostics } = runPipeline(source, { fileName: "rule.qt" }, "plan");
  if (!plans) throw new Error(JSON.stringify(diagnostics.map((d) => d.message)));
  return plans.guest;
}

/** Each capability with the line and column where the file first needs it. */
function needs(source: string): Record<string, string> {
  return Object.fromEntries([...planOf(source).capabilities].map(([c, span]) => [c, `${span.start.line}:${span.start.column}`]));
}

describe("what a rule needs", () => {
  test.each<[string, Record<string, string>]>([
    ["when syscall latency > 200ms on pid 1\n", { inflight: "1:1" }],
    ["when syscall openat error ENOENT on pid 1\n", {}],
    ['when message "I/O error"\n', { "console-search": "1:1" }],
    // The line's number is a reading, compared in the search: no threshold.
    ['when message "took %u ms" > 5\n', { "console-search": "1:1" }],
    ["when vcpu stall > 100ms\n", { "vcpu-watch": "1:1", thresholds: "1:1" }],
    ["when tick gap > 100ms\n", { "tick-tracking": "1:1", "vcpu-watch": "1:1", thresholds: "1:1" }],
    ["when signal SIGKILL\nwhen syscall read error EIO 3 times within 1s\n", { counting: "2:1", occurrences: "2:1" }],
    ["when signal SIGKILL after 10s\n", { occurrences: "1:1" }],
    ["param lag: duration\nwhen vcpu stall > $lag\n", { "runtime-durations": "1:1", "vcpu-watch": "2:1", thresholds: "2:1" }],
    ["when signal SIGKILL then syscall read error EIO within 1s\n", { sequences: "1:1" }],
  ])("%j", (source, expected) => {
    expect(needs(source)).toEqual(expected);
  });

  test("the SystemTap guest backend supports every capability, so no example gets E0149", () => {
    expect([...GUEST_BACKEND.capabilities].sort()).toEqual(Object.keys(CAPABILITIES).sort());
    const examples = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".qt"));
    const needed = new Set<Capability>();
    for (const name of examples) {
      const plan = planOf(readFileSync(join(repoRoot, "examples", name), "utf8"));
      for (const c of plan.capabilities.keys()) needed.add(c);
      expect(capabilityDiagnostics(plan, GUEST_BACKEND)).toEqual([]);
    }
    // The examples between them need most of what the backend supports: the contract is not vacuous.
    expect(needed.size).toBeGreaterThanOrEqual(7);
  });
});

describe("a backend that lacks a capability", () => {
  const withoutSequences = { name: "lean", capabilities: new Set((Object.keys(CAPABILITIES) as Capability[]).filter((c) => c !== "sequences")) };

  test("gets E0149 at the rule that needs it, naming what it lacks and what it supports", () => {
    const plan = planOf("when signal SIGKILL\nwhen signal SIGTERM then syscall read error EIO within 1s as \"seq\"\n");
    const [d, ...more] = capabilityDiagnostics(plan, withoutSequences);
    expect(more).toEqual([]);
    expect(d.code).toBe("E0149");
    expect(d.severity).toBe("error");
    expect(d.span.start.line).toBe(2);
    expect(d.message).toBe(`the lean guest backend cannot do what this needs: ${CAPABILITIES.sequences} (sequences)`);
    expect(d.notes?.[0]).toContain("inflight");
    expect(d.notes?.[0]).not.toContain("sequences");
  });

  test("a file that needs nothing it lacks gets none", () => {
    expect(capabilityDiagnostics(planOf("when syscall latency > 1s on pid 1\n"), withoutSequences)).toEqual([]);
  });

  test("a backend with none gets one error per capability the file needs, once each", () => {
    const plan = planOf("when syscall latency > 1s on pid 1\nwhen syscall read latency > 2s on pid 2\nwhen vcpu stall > 100ms\n");
    const codes = capabilityDiagnostics(plan, { name: "none", capabilities: new Set() }).map((d) => `${d.code} ${d.span.start.line} ${/\(([^()]*)\)$/.exec(d.message)![1]}`);
    expect(codes).toEqual(["E0149 1 inflight", "E0149 3 thresholds", "E0149 3 vcpu-watch"]);
  });
});
