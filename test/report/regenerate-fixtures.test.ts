// Not a test: regenerates test/fixtures/report/ (real captures from the emulated 5.10,
// 6.1 and 6.12 KVM hosts, each the 'starved' scenario, cut to the 1.2 s before the
// trip), which fixtures.test.ts reads. Runs only when asked:
//   QTRIP_REPORT_FIXTURES=1 npx vitest run --config test/vitest.config.ts test/report/regenerate-fixtures.test.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../support/stap.js";
import { listTargets } from "../support/targets.js";
import { targetMachine } from "../e2e/support/machine.js";
import { bootHost, type HostMachine } from "../e2e/host/support/emulated-host.js";
import { hogEntry, captureDir, dumpDisk, readDumps, reportScenario } from "../e2e/host/support/report-scenarios.js";

const machines: { name: string; machine?: HostMachine }[] = [
  { name: "6.1" },
  ...listTargets()
    .filter((e) => e.target && e.suite !== "bookworm")
    .map((e) => ({ name: e.suite === "bullseye" ? "5.10" : "6.12", machine: targetMachine(e.target!) })),
];

test.runIf(process.env.QTRIP_REPORT_FIXTURES).each(machines)("fixture from the emulated $name host", async ({ name, machine }) => {
  const work = mkdtempSync(join(tmpdir(), "qtrip-report-fixture-"));
  const disk = dumpDisk(work, machine?.kernel);
  const boot = await bootHost({
    name: `report-fixture-${name}`,
    smp: 2,
    entries: [hogEntry(work), ...disk.entries],
    drives: [disk.drive],
    scenario: `${reportScenario(["starved"], disk)}\nsave_dumps`,
    ...(machine ? { machine } : {}),
    timeoutMs: 600_000,
  });
  const dir = join(repoRoot, "test/fixtures/report", name);
  rmSync(dir, { recursive: true, force: true });
  captureDir(boot, readDumps(disk, join(work, "dumps")), "starved", dir, 1.2);
  expect(boot.console).toContain("@@ freeze dumped starved");
}, 900_000);
