// The network conditions in a real guest, one boot a kernel: a module is loaded for each scenario,
// watches steps that must not trip it, then the one step that must, and is unloaded (a module trips
// once; loaded again, it starts afresh). The TCP rules share one module, so each of them is armed
// through every TCP scenario; their traffic goes over the guest's loopback. Net stall has a module of
// its own, on a virtio NIC behind QEMU's user network with restrict=on, which answers ARP and pings
// to its gateway (10.0.2.2) and drops UDP to it without a word: the guest keeps sending, hears nothing.
// Debian 12's 6.1 (this machine's kernel and SystemTap) runs every scenario; Debian 11's 5.10 or
// Debian 13's 6.12, one a run in turn, the TCP ones, with that suite's own SystemTap.
import { basename } from "node:path";
import { expect, test } from "vitest";
import { compileRule } from "../support/compile.js";
import { targetMachine } from "../support/machine.js";
import { sampledOut, taken } from "../support/sample.js";
import { msBetween } from "./expect-trip.js";
import { buildRuleModule, markerAt, PHASE, runGuest, trips, type GuestMachine, type GuestRun } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";
import { buildForTarget, target, type Suite } from "../../support/targets.js";

interface Scenario {
  rule: string;
  label: string;
  module: "tcp" | "stall";
  /** Steps that must not trip the module's rules, then (after marker `base` + 1) the one that must. */
  quiet: string;
  trip: string;
  base: number;
  /** When the trip may come after the trip step's marker, in ms. */
  minMs: number;
  maxMs: number;
}

const NET = "/bin/qt-net";

/** Before 6.10 the reset the guest sends for no socket (a connection to a closed port) is not traced; since, it is. */
function scenarios(resetForNoSocketTraced: boolean): Scenario[] {
  return [
    {
      // An abort on another port; a reset sent with remote port 7001 (the connecting end aborts a
      // connection to 7001); a clean close on 7001: then the connecting end of a connection to 7001
      // that the accepted end aborts receives the reset.
      rule: 'when event tcp_reset received on remote_port 7001 as "reset received"',
      label: "reset received",
      module: "tcp",
      quiet: `${NET} abort:7005 peerabort:7001 clean:7001`,
      trip: "abort:7001",
      base: 0x10,
      minMs: 0,
      maxMs: 200,
    },
    {
      // A refused connection to 7011 where that reset is not traced; a reset received with local port
      // 7011 (the connecting end aborts); one sent from another port; a clean close: then the accepted
      // end on 7011 aborts, sending a reset (its port already released: read from inet_sport, as the
      // tracepoint does).
      rule: 'when event tcp_reset sent on local_port 7011 as "reset sent"',
      label: "reset sent",
      module: "tcp",
      quiet: `${NET} ${resetForNoSocketTraced ? "" : "refused:7011 "}peerabort:7011 abort:7012 clean:7011`,
      trip: "abort:7011",
      base: 0x20,
      minMs: 0,
      maxMs: 200,
    },
    ...(resetForNoSocketTraced
      ? [
          {
            // The reset for no socket, its ports read from the segment it answers (6.10+): a reset
            // received with local port 7041, a clean close: then a connection to 7041, where nothing listens.
            rule: 'when event tcp_reset sent on local_port 7041 as "reset for no socket"',
            label: "reset for no socket",
            module: "tcp" as const,
            quiet: `${NET} peerabort:7041 clean:7041`,
            trip: "refused:7041",
            base: 0x50,
            minMs: 0,
            maxMs: 200,
          },
        ]
      : []),
    {
      // Without a direction, one handler at both tracepoints: a clean close on 7061, then a reset the
      // connecting end sends to 7061 as it aborts (the accepted end's, received, has another remote port).
      rule: 'when event tcp_reset on remote_port 7061 as "reset either way"',
      label: "reset either way",
      module: "tcp",
      quiet: `${NET} abort:7062 clean:7061`,
      trip: "peerabort:7061",
      base: 0x60,
      minMs: 0,
      maxMs: 200,
    },
    {
      // A SYN sent again to another port, a clean connection to 7021: then a SYN to 7021 is dropped
      // (its listener's accept queue full) and sent again after the initial retransmission timeout, 1 s.
      rule: 'when event tcp_retransmit on remote_port 7021 as "retransmit"',
      label: "retransmit",
      module: "tcp",
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
      module: "stall",
      quiet: "ping -c 8 -i 0.25 -q 10.0.2.2\n" + `${NET} clean:7031 clean:7032`,
      trip: "udp:10.0.2.2:9:50x50",
      base: 0x40,
      minMs: 1000,
      maxMs: 1000 + 150,
    },
  ];
}

/** Each module's rule file: its scenarios' rules. */
function sources(list: Scenario[]): Map<Scenario["module"], string> {
  const out = new Map<Scenario["module"], string>();
  for (const s of list) out.set(s.module, `${out.get(s.module) ?? ""}${s.rule}\n`);
  return out;
}

function session(list: Scenario[], modules: Map<Scenario["module"], string>, withNic: boolean): string {
  const parts = list.map((s, i) => {
    const module = basename(modules.get(s.module)!);
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
  const nic = withNic ? ["ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0"] : [];
  return ["ip link set lo up", ...nic, ...parts].join("\n");
}

async function run(list: Scenario[], modules: Map<Scenario["module"], string>, machine?: GuestMachine): Promise<number[]> {
  const withNic = list.some((s) => s.module === "stall");
  const files = Object.fromEntries([...modules.values()].map((m) => [`/${basename(m)}`, m]));
  const guest = await runGuest({
    session: session(list, modules, withNic),
    files,
    ...(withNic ? { nics: [{ netdev: "user,restrict=on", model: "virtio-net-pci" as const }], kernelModules: ["virtio_pci", "virtio_net"] } : {}),
    ...(machine ? { machine } : {}),
    timeoutMs: 180_000,
  });
  markerAt(guest, PHASE.armed);
  markerAt(guest, PHASE.done);
  return expectTrips(guest, list);
}

/** Each scenario's rule tripped once, in order (no rule of its module tripped at a quiet step), in its window after its trip step. */
function expectTrips(guest: GuestRun, list: Scenario[]): number[] {
  const seen = trips(guest);
  const labels = [...guest.console.matchAll(/qtrip: tripped: (.*?): writing/g)].map((m) => m[1]);
  expect(guest.console).not.toContain("qtrip-e2e: staprun failed");
  expect(labels, `console:\n${guest.console}`).toEqual(list.map((s) => s.label));
  expect(seen).toHaveLength(list.length);
  return list.map((s, i) => {
    const ms = msBetween(markerAt(guest, s.base + 1), seen[i]!.us);
    expect(ms, `${s.label}: ${ms} ms after its step`).toBeGreaterThanOrEqual(s.minMs);
    expect(ms, `${s.label}: ${ms} ms after its step`).toBeLessThanOrEqual(s.maxMs);
    return ms;
  });
}

const say = (list: Scenario[], delays: number[]) => list.map((s, i) => `${s.label} ${delays[i]!.toFixed(1)}`).join(", ");

describeInstalled("qemu", "test-kernel", "stap")("network conditions in a real guest", { timeout: 600_000 }, () => {
  test("6.1: tcp_reset received, sent and either, tcp_retransmit, net stall: no trip, then a trip, each", async () => {
    const list = scenarios(false);
    const built = await Promise.all([...sources(list)].map(async ([name, source]) => [name, await buildRuleModule({ source })] as const));
    const delays = await run(list, new Map(built));
    console.log(`6.1 trip delays (ms after each trip step): ${say(list, delays)}`);
  });

  // The TCP scenarios on another suite's kernel, with its SystemTap: 5.10 or 6.12, one a run (support/sample.ts).
  const OTHERS: Suite[] = ["bullseye", "trixie"];
  test.for(OTHERS.map((suite, i) => [suite, i] as const))("%s: the TCP conditions trip, and not before", async ([suite, i], ctx) => {
    const t = target(suite);
    if (!t) return ctx.skip(`no ${suite} target (bash .ci/targets ${suite})`);
    if (!taken("network-suites", i, OTHERS.length)) return ctx.skip(sampledOut("network-suites"));
    const [major, minor] = t.kernelRelease.split(".").map(Number) as [number, number];
    const list = scenarios(major > 6 || (major === 6 && minor >= 10)).filter((s) => s.module === "tcp");
    const built = await buildForTarget(t, compileRule({ source: sources(list).get("tcp")! }).guest, `qt_net_${suite}`);
    expect(built.ok, built.stderr).toBe(true);
    const delays = await run(list, new Map([["tcp", built.module!]]), targetMachine(t));
    console.log(`${t.kernelRelease} trip delays (ms after each trip step): ${say(list, delays)}`);
  });
});
