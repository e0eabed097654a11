// Benchmark of the host script in an emulated KVM hypervisor (QEMU TCG, nested
// SVM; see test/e2e/host/support): for each probe point and action, the time
// from the guest's KVM_RUN entry (kvmguest's /dev/kmsg line) to the banner and
// to the crash ("Kernel panic", or int13's oops, read from the dump), on the
// emulated host's kernel log clock, and whether KVM_RUN returned first.
//
//   node test/bench/host.mjs        # QTRIP_BENCH_RUNS=N boots per crash case (3)
//
// Not a test: it prints figures. TCG inflates every figure; the ordering holds.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");
const runs = Number(process.env.QTRIP_BENCH_RUNS ?? 3);
const logTrips = 10;

// The harness is TypeScript and node 20 runs no TypeScript: bundle it first. The
// bundle sits two levels below the root, as test/support/stap.ts expects of itself
// (it finds the repository from its own location).
mkdirSync(join(repoRoot, ".cache/bench"), { recursive: true });
const bundle = join(repoRoot, ".cache/bench/host-harness.mjs");
await build({
  stdin: {
    contents: [
      'export * from "./test/e2e/host/support/emulated-host.ts";',
      'export * from "./test/e2e/host/support/crash.ts";',
    ].join("\n"),
    resolveDir: repoRoot,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile: bundle,
  logLevel: "warning",
});
const { KERNEL_PROBES, TRIP, bootHost, crashBoot, hostModule, kvmRuns, tripTiming } = await import(bundle);

const ms = (x) => (x === undefined ? "-" : x.toFixed(2));
const rows = [];

for (const probe of KERNEL_PROBES) {
  // log: one boot, several trips; the VM goes on after each.
  // Each trip is its own kvmguest process: this rehearsal script lets any guest trip it.
  const module = await hostModule("qt_bench", { action: "log", probe, anyGuest: true });
  const boot = await bootHost({
    name: `bench-log-${probe}`,
    files: { "lib/qtrip/qt_bench.ko": module },
    scenario: [
      "arm /lib/qtrip/qt_bench.ko",
      `for i in $(seq ${logTrips}); do kvmguest --label trip$i outb:0x3fe:0x00 outb:0x3fe:0x01 outb:0x3ff:0x1f; done`,
    ].join("\n"),
  });
  const banners = boot.host.filter((r) => TRIP.test(r.text));
  for (let i = 1; i <= logTrips; i++) {
    const run = kvmRuns(boot.host, `trip${i}`)[2];
    const banner = run && banners.find((b) => b.t >= run.enter && (!run.returned || b.t <= run.returned.t));
    rows.push({
      probe,
      action: "log",
      toBanner: banner && (banner.t - run.enter) * 1000,
      toEnd: run?.returned && (run.returned.t - run.enter) * 1000,
      end: "KVM_RUN returned",
      returned: run?.returned !== undefined,
    });
  }

  for (const action of ["int13", "panic"]) {
    for (let i = 0; i < runs; i++) {
      const t = tripTiming(await crashBoot(action, probe, { name: `bench-${action}-${probe}-${i}`, refusal: false }));
      rows.push({
        probe,
        action,
        toBanner: t.toBannerMs,
        toEnd: t.toCrashMs,
        end: t.crash?.slice(0, 40) ?? "no crash record",
        returned: t.returned,
        capture: t.toCaptureWallMs,
      });
    }
  }
}

console.log("ms on the emulated host's log clock from the tripping KVM_RUN's entry (warm vCPU; QEMU TCG, nested SVM)");
console.log(["probe", "action", "->banner", "->end", "end", "KVM_RUN returned?", "banner->capture kernel (wall ms)"].join("\t"));
for (const r of rows) {
  console.log([r.probe, r.action, ms(r.toBanner), ms(r.toEnd), r.end, r.returned ? "yes" : "no", r.capture ?? "-"].join("\t"));
}
console.log("\nmedians");
for (const probe of KERNEL_PROBES) {
  for (const action of ["log", "int13", "panic"]) {
    const mine = rows.filter((r) => r.probe === probe && r.action === action);
    const med = (xs) => {
      const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
      return s.length ? s[Math.floor(s.length / 2)] : undefined;
    };
    console.log(
      `${probe}\t${action}\tn=${mine.length}\t->banner ${ms(med(mine.map((r) => r.toBanner)))}\t->end ${ms(med(mine.map((r) => r.toEnd)))}` +
        `\tKVM_RUN returned: ${mine.filter((r) => r.returned).length}/${mine.length}` +
        (action === "log" ? "" : `\tbanner->capture kernel ${ms(med(mine.map((r) => r.capture)))} wall ms`),
    );
  }
}
