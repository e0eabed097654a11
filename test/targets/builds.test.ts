// Every Debian suite's own SystemTap, against that suite's current kernel:
// representative generated scripts build (stap -p4, nothing loaded) in each
// target .ci/targets prepared. Scripts come from compileSource(), not from the
// golden files, so they follow the generator. See test/targets/FINDINGS.md for
// what fails with each suite's stap exactly as installed and why.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import {
  listTargets,
  buildForTarget,
  needsPatchedRuntime,
  stapOptions,
  type Target,
} from "../support/targets.js";
import { onSlot, sampledOut, taken } from "../e2e/support/sample.js";

/** One rule per probe family, as a case file would have it. */
const GUEST_RULES = {
  "tracepoint (syscall latency)": "when syscall latency > 200ms on pid 1",
  // A number in a log line, parsed in the guest's C: at vprintk_emit() before 5.19 (a kprobe), printk:console since.
  "kprobe (event warn; a number in a kernel log line)": 'when event warn\nwhen message "hrtimer: interrupt took %u ns" > 2ms on context "kernel"',
  "kprobe on a module function (ext4:ext4_sync_file)": 'when function "ext4:ext4_sync_file" latency > 1s',
  "timer (tick gap)": "when tick gap > 100ms after 30s",
  // With sequences: a first condition stamping at an event (tick gap, signal), a second one judged in the
  // cross-CPU watch (vcpu stall) and in the in-flight scan (nanosleep), each in C (fragments/sequences.ts).
  "cross-CPU watch (vcpu stall), in sequences": "when tick gap > 50ms then vcpu stall > 100ms on cpu 1 within 5s\nwhen signal SIGUSR1 then syscall nanosleep latency > 200ms on pid 1 within 5s allow W0004",
  // With a resume, read from kvm-clock's record at the expiry (runtime/pauses.ts), starting a sequence.
  "hrtimer expiry (timer late, vm_resumed)": "when timer late > 20ms on cpu 1\nwhen event vm_resumed then syscall nanosleep latency > 200ms on pid 1 within 10s allow W0004",
  // Per-CPU rings for the steal rules only (runtime/steal.ts), the first condition of a sequence too.
  "steal accounting (steal)": "when steal > 20% within 1s on cpu 1\nwhen steal >= 50% within 500ms then tick gap > 1s within 5s",
  "tracepoints, a kprobe and its return probe in one handler (reclaim stall)": 'when reclaim stall > 1s on comm "qemu-kvm"',
  // Each reset direction its own tcp: tracepoint, both in one handler without one; net:, and tx_timeout's choice by kernel version.
  "tcp and net tracepoints (network conditions)":
    'when event tcp_reset sent on local_port 80\nwhen event tcp_reset received on remote_port 5432\nwhen event tcp_reset\nwhen event tcp_retransmit on remote_port 5432\nwhen net stall > 1s on device "eth0"\nwhen event tx_timeout on device "eth0"',
} as const;

const HOST_PROBE_POINTS = ["kvm_fast_pio", "kvm_pio"] as const;

/** Every example and every example of the language reference, as written. */
const repo = join(import.meta.dirname, "../..");
const SOURCES = [
  ...readdirSync(join(repo, "examples")).filter((f) => f.endsWith(".qt")).map((f) => join("examples", f)),
  ...readdirSync(join(repo, "test/fixtures/language")).filter((f) => f.endsWith(".qt")).map((f) => join("test/fixtures/language", f)),
].sort();

function compile(rule: string, options: { hostProbe?: (typeof HOST_PROBE_POINTS)[number] } = {}) {
  const source = `case "00000011"\ntitle "targets"\n${rule}\n`;
  const result = compileSource(source, { fileName: "targets.qt", ...options });
  if (!result.outputs) throw new Error(`${rule} does not compile: ${JSON.stringify(result.diagnostics)}`);
  return result.outputs;
}

const built: string[] = [];
afterAll(() => built.forEach((m) => rmSync(dirname(m), { recursive: true, force: true })));

async function build(t: Target, generated: string) {
  const result = await buildForTarget(t, generated);
  if (result.module) built.push(result.module);
  return result;
}

/** The module was built for the target's kernel. */
function vermagic(module: string): string | undefined {
  return /vermagic=(\S+)/.exec(readFileSync(module, "latin1"))?.[1];
}

const TARGETS = listTargets();
for (const [slot, entry] of TARGETS.entries()) {
  const { suite } = entry;
  if (!entry.target) {
    describe.skip(`${suite}: ${entry.reason}`, () => {
      test("skipped", () => {});
    });
    continue;
  }
  const t = entry.target;
  describe(`${suite} (Debian ${t.debianVersion}, ${t.kernelRelease}, systemtap ${t.stapVersion})`, () => {
    test("the workarounds it needs are the ones FINDINGS.md names", () => {
      const expected = { bullseye: [[], true], bookworm: [[], true], trixie: [["-B", "KCFLAGS=-w", "-DSTAPCONF_UPROBE_UNREGISTER_EXPORTED", "-DSTAPCONF_UPROBE_GET_SWBP_ADDR_EXPORTED"], false] } as const;
      expect([stapOptions(t), needsPatchedRuntime(t)]).toEqual(expected[suite]);
    });

    // Two of the nine probe families a run on each suite, rotating (the suites' guest e2e files build and load the others).
    test.for(Object.entries(GUEST_RULES).map(([family, rule], i) => [family, rule, i] as const))("guest, %s, builds", { timeout: 900_000 }, async ([, rule, i], ctx) => {
      if (!taken(`builds-families-${suite}`, i, Object.keys(GUEST_RULES).length, 2)) return ctx.skip(sampledOut(`builds-families-${suite}`));
      const result = await build(t, compile(rule).guest);
      expect(result.ok, result.stderr).toBe(true);
      expect(vermagic(result.module!)).toBe(t.kernelRelease);
    });

    // Each example on one suite's SystemTap a run, the suite rotating with the commit (the probe families above build on every suite).
    test.for(SOURCES.map((path, i) => [path, i] as const))("%s: the guest script builds as written", { timeout: 900_000 }, async ([path, i], ctx) => {
      if (!onSlot("builds-sources", i, slot, TARGETS.length)) return ctx.skip(sampledOut("builds-sources"));
      const result = compileSource(readFileSync(join(repo, path), "utf8"), { fileName: path });
      const built = await build(t, result.outputs!.guest);
      expect(built.ok, built.stderr).toBe(true);
    });

    test.each(HOST_PROBE_POINTS)("host, probe point %s, builds", async (hostProbe) => {
      const result = await build(t, compile("when event warn", { hostProbe }).host);
      expect(result.ok, result.stderr).toBe(true);
      expect(vermagic(result.module!)).toBe(t.kernelRelease);
    }, 900_000);
  });
}
