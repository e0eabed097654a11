// The network conditions in a real guest (Debian 12's 6.1, this machine's SystemTap), one boot
// for all: each rule's module is loaded in turn, watches a part that must not trip it, then the
// one step that must, and is unloaded. TCP over the guest's loopback; net stall on a virtio NIC
// behind QEMU's user network with restrict=on, which answers ARP and pings to its gateway
// (10.0.2.2) and drops UDP to it without a word: the guest keeps sending, hears nothing.
import { basename } from "node:path";
import { expect, test } from "vitest";
import { msBetween } from "./expect-trip.js";
import { buildRuleModule, markerAt, PHASE, runGuest, trips, type GuestRun } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

interface Scenario {
  rule: string;
  label: string;
  /** Steps that must not trip the rule, then (after marker `base` + 1) the one that must. */
  quiet: string;
  trip: string;
  base: number;
  /** When the trip may come after the trip step's marker, in ms. */
  minMs: number;
  maxMs: number;
}

const NET = "/bin/qt-net";

export const SCENARIOS: Scenario[] = [
  {
    // An abort on another port; a reset sent with remote port 7001 (the connecting end aborts a
    // connection to 7001); a clean close on 7001: then the connecting end of a connection to 7001
    // that the accepted end aborts receives the reset.
    rule: 'when event tcp_reset received on remote_port 7001 as "reset received"',
    label: "reset received",
    quiet: `${NET} abort:7005 peerabort:7001 clean:7001`,
    trip: "abort:7001",
    base: 0x10,
    minMs: 0,
    maxMs: 200,
  },
  {
    // A refused connection to 7011 (the reset the guest sends for no socket is not traced before 6.10);
    // a reset received with local port 7011 (the connecting end aborts); one sent from another port; a
    // clean close: then the accepted end on 7011 aborts, sending a reset (its port already released:
    // read from inet_sport, as the tracepoint does).
    rule: 'when event tcp_reset sent on local_port 7011 as "reset sent"',
    label: "reset sent",
    quiet: `${NET} refused:7011 peerabort:7011 abort:7012 clean:7011`,
    trip: "abort:7011",
    base: 0x20,
    minMs: 0,
    maxMs: 200,
  },
  {
    // A SYN sent again to another port, a clean connection to 7021: then a SYN to 7021 is dropped
    // (its listener's accept queue full) and sent again after the initial retransmission timeout, 1 s.
    rule: 'when event tcp_retransmit on remote_port 7021 as "retransmit"',
    label: "retransmit",
    quiet: `${NET} synretry:7022 clean:7021`,
    trip: "synretry:7021",
    base: 0x30,
    minMs: 900,
    maxMs: 1400,
  },
  {
    // 2 s of pings, each answered; lo sends all the time and hears itself: then UDP datagrams to
    // the gateway every 50 ms, never answered: eth0 stalls from the first one on.
    rule: 'when net stall > 1s on device "eth0" as "eth0 stall"',
    label: "eth0 stall",
    quiet: "ping -c 8 -i 0.25 -q 10.0.2.2\n" + `${NET} clean:7031 clean:7032`,
    trip: "udp:10.0.2.2:9:50x50",
    base: 0x40,
    minMs: 1000,
    maxMs: 1000 + 150,
  },
];

function session(modules: string[]): string {
  const parts = SCENARIOS.map((s, i) => {
    const module = basename(modules[i]!);
    return [
      `staprun -L /${module} || echo "qtrip-e2e: staprun failed"`,
      i === 0 ? `mark ${PHASE.armed}` : "",
      s.quiet,
      "sleep 1",
      `${NET} base:${s.base} ${s.trip}`,
      "sleep 1",
      `staprun -d ${module.replace(/\.ko$/, "")}`,
    ].join("\n");
  });
  return ["ip link set lo up", "ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0", ...parts].join("\n");
}

function expectTrips(run: GuestRun): number[] {
  const seen = trips(run);
  const labels = [...run.console.matchAll(/qtrip: tripped: (.*?): writing/g)].map((m) => m[1]);
  expect(labels, `console:\n${run.console}`).toEqual(SCENARIOS.map((s) => s.label));
  expect(seen).toHaveLength(SCENARIOS.length);
  return SCENARIOS.map((s, i) => {
    const ms = msBetween(markerAt(run, s.base + 1), seen[i]!.us);
    expect(ms, `${s.label}: ${ms} ms after its step`).toBeGreaterThanOrEqual(s.minMs);
    expect(ms, `${s.label}: ${ms} ms after its step`).toBeLessThanOrEqual(s.maxMs);
    return ms;
  });
}

describeInstalled("qemu", "test-kernel", "stap")("network conditions in a real guest", { timeout: 600_000 }, () => {
  test("tcp_reset received and sent, tcp_retransmit, net stall: no trip, then a trip, each", async () => {
    const modules = await Promise.all(SCENARIOS.map((s) => buildRuleModule({ source: `${s.rule}\n` })));
    const run = await runGuest({
      session: session(modules),
      files: Object.fromEntries(modules.map((m) => [`/${basename(m)}`, m])),
      netdev: "user,restrict=on",
      kernelModules: ["virtio_pci", "virtio_net"],
      timeoutMs: 180_000,
    });
    markerAt(run, PHASE.armed);
    markerAt(run, PHASE.done);
    const delays = expectTrips(run);
    console.log(`trip delays (ms after each trip step): ${SCENARIOS.map((s, i) => `${s.label} ${delays[i]!.toFixed(1)}`).join(", ")}`);
  });
});
