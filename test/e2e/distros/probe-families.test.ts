// Every Debian suite as its users have it: the guest script built by that suite's
// own SystemTap for that suite's own kernel (test/support/targets.ts, as in
// test/targets), loaded by that suite's own staprun in a guest that boots that
// kernel, trips when the rule holds and not before. One rule per probe family
// that differs between SystemTap versions: a tracepoint, and a kprobe (SystemTap
// 4.4 needs qtrip's module_mutex shim for it), on a module's function by its plain
// name (af_key is a module on every suite; the build's symbol table has only the
// image's names, and qtrip's runtime finds it in the module as the probe registers;
// a function of the image: the stock guests, test/e2e/stock). On Debian 13 the module starts only
// with the uprobe-lookup options stapOptions() adds (SystemTap 5.1 looks up
// uprobe_unregister, which 6.12 no longer has; see test/targets/FINDINGS.md).
import { expect, test } from "vitest";
import { compileSource } from "../../../src/compile.js";
import { buildForTarget, listTargets, type Target } from "../../support/targets.js";
import { atThreshold, expectTrip, msBetween, THRESHOLD_MS } from "../guest/expect-trip.js";
import { markerAt, runGuest, type GuestRun } from "../guest/harness.js";
import { describeInstalled } from "../../support/installed.js";
import { onSlot, sampledOut } from "../support/sample.js";

const RULES = {
  tracepoint: { source: 'param pid: int\nwhen syscall read latency > 200ms on pid $pid as "slow read"\n', label: "slow read", calls: "read" },
  kprobe: {
    source: 'param pid: int\nwhen function "pfkey_recvmsg" latency > 200ms on pid $pid as "slow key read"\n',
    label: "slow key read",
    calls: "keyread",
    modules: ["af_key"],
  },
} as const;

async function boot(t: Target, rule: (typeof RULES)[keyof typeof RULES]): Promise<GuestRun> {
  const { outputs } = compileSource(rule.source, { fileName: "suite.qt" });
  const built = await buildForTarget(t, outputs!.guest, `qt_${t.suite}_${rule.calls}`);
  expect(built.ok, built.stderr).toBe(true);
  // Calls 1-3 last 100 ms (no trip), call 4 one second: it trips 200 ms in.
  return runGuest({
    machine: { kernel: { release: t.kernelRelease, image: t.kernelImage, modules: t.modules }, staprunRoot: t.root },
    module: built.module!,
    kernelModules: "modules" in rule ? [...rule.modules] : [],
    session: `spawn t ${rule.calls}:100x3 ${rule.calls}:1000
              arm pid=$pid_t
              run t`,
  });
}

const TARGETS = listTargets();
for (const [slot, entry] of TARGETS.entries()) {
  const t = entry.target;
  describeInstalled("qemu").skipIf(!t)(`Debian ${t?.debianVersion ?? entry.suite} (${t?.kernelRelease}, SystemTap ${t?.stapVersion}) in a real guest`, { timeout: 900_000 }, () => {
    // Each rule on one suite a run, the suites rotating with the commit (support/sample.ts); qtrip-build.test.ts
    // loads a system call rule built with one suite's SystemTap too.
    test.for(Object.entries(RULES).map(([family, rule], i) => [family, rule, i] as const))("%s rule: three short calls do not trip, a long one trips at the threshold", async ([family, rule, i], ctx) => {
      if (!onSlot("probe-families", i, slot, TARGETS.length)) return ctx.skip(sampledOut("probe-families"));
      const run = await boot(t!, rule);
      // staprun -L exits 0 even when the module's start failed: "armed" is the script's own word.
      expect(run.console).toContain("qtrip: armed: 1 rule(s)");
      const at = expectTrip(run, rule.label, atThreshold(4));
      // The figure the support table and the closing notes quote, per suite: how late past the threshold.
      console.log(`${t!.suite} ${family}: tripped ${(msBetween(markerAt(run, 4), at) - THRESHOLD_MS).toFixed(1)} ms past the ${THRESHOLD_MS} ms threshold (QEMU's clock)`);
    });
  });
}
