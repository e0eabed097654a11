// `event tx_timeout` in a real guest, one boot a kernel: the kernel's own transmit watchdog
// (dev_watchdog() in net/sched/sch_generic.c) fires on a NIC. No NIC of QEMU stops its
// transmit queue by itself, so a guru-mode helper of the test's own puts a queue in the state a
// stuck NIC leaves it in: stopped, its last transmit older than the device's watchdog_timeo.
// Everything else is the kernel's: its watchdog timer finds the queue, counts the timeout,
// fires net:net_dev_xmit_timeout, logs NETDEV WATCHDOG and calls the driver's ndo_tx_timeout.
//
// Two NICs: eth1's watchdog fires first, while the rule on eth0 is armed (the device filter
// excludes it), after root's /dev/kmsg line and a user's crashing program with the watchdog's
// words; then eth0's queue is stopped (the helper writes marker 0x31) and the rule trips once,
// at the watchdog's next run. 6.1 and 6.12: eth0 is virtio_net, eth1 e1000; 5.10: both e1000
// (its virtio_net has no ndo_tx_timeout: the kernel runs no watchdog for it).
import { basename } from "node:path";
import { expect, test } from "vitest";
import { expectTrip, msBetween } from "./expect-trip.js";
import { buildModule, buildRuleModule, consoleTextAt, markerAt, PHASE, runGuest, type GuestMachine } from "./harness.js";
import { crashAsUser, crashReport } from "./kernel-lines.js";
import { compileRule } from "../support/compile.js";
import { targetMachine } from "../support/machine.js";
import type { Nic } from "../support/qemu.js";
import { sampledOut, taken } from "../support/sample.js";
import { describeInstalled } from "../../support/installed.js";
import { buildForTarget, target, type Suite } from "../../support/targets.js";

const RULE = 'when event tx_timeout on device "eth0" as "tx"\n';

/**
 * The helper: stops transmit queue 0 of the device `ifname` (a module option) as a driver whose
 * ring is full does (netif_tx_stop_queue: the driver's bit) and as BQL does (its own bit, which a
 * driver's wake-up at a receive, virtio_net's, does not clear), and ages the queue's last
 * transmit past watchdog_timeo: the watchdog needs the device present, running, with carrier
 * and a qdisc, and a queue stopped since longer than watchdog_timeo (6.x's
 * netif_tx_stop_queue() stamps trans_start itself: it is aged after). Writes marker `mark`,
 * says what it did, and exits. Nothing here sleeps (a begin probe must not).
 */
const TX_STOP = String.raw`#   stap -g tx-stop.stp (a build target's options come from this line)
%{
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <net/net_namespace.h>
%}
global ifname = "eth0"
global mark = 0
function stop(name:string, value:long) %{
	struct net_device *dev = dev_get_by_name(&init_net, STAP_ARG_name);
	if (dev) {
		struct netdev_queue *txq = netdev_get_tx_queue(dev, 0);
		const char *driver = dev->dev.parent && dev->dev.parent->driver ? dev->dev.parent->driver->name : "?";
		__netif_tx_lock_bh(txq);
		netif_tx_stop_queue(txq);
		set_bit(__QUEUE_STATE_STACK_XOFF, &txq->state);
		WRITE_ONCE(txq->trans_start, jiffies - dev->watchdog_timeo - 1);
		__netif_tx_unlock_bh(txq);
		outb(STAP_ARG_value, 0x378);
		printk(KERN_INFO "qt-e2e: %s (%s): transmit queue 0 stopped, %u ms since its last transmit; watchdog %s, every %u ms; carrier %d\n",
		       dev->name, driver, jiffies_to_msecs(jiffies - READ_ONCE(txq->trans_start)),
		       dev->netdev_ops->ndo_tx_timeout ? "on" : "off (no ndo_tx_timeout)", jiffies_to_msecs(dev->watchdog_timeo), netif_carrier_ok(dev));
		dev_put(dev);
	} else {
		printk(KERN_INFO "qt-e2e: no device %s\n", STAP_ARG_name);
	}
%}
probe begin { stop(ifname, mark); exit() }
`;

/** The watchdog's words, as 5.10 logs them (the line the rule reads before 5.6). */
const WORDS = "NETDEV WATCHDOG: eth0 (virtio_net): transmit queue 0 timed out";

/** Session lines: wait (up to 10 s) until the kernel counted a transmit timeout of `dev`'s queue 0. */
const timedOut = (dev: string) =>
  `for i in $(seq 100); do [ "$(cat /sys/class/net/${dev}/queues/tx-0/tx_timeout)" != 0 ] && break; sleep 0.1; done`;

function session(helper: string): string {
  const load = (dev: string, marker: number) => `staprun /${basename(helper)} ifname=${dev} mark=${marker} || echo "qtrip-e2e: staprun failed"`;
  return `ip link set eth0 up
          ip link set eth1 up
          for i in $(seq 100); do [ "$(cat /sys/class/net/eth0/carrier)$(cat /sys/class/net/eth1/carrier)" = 11 ] && break; sleep 0.1; done
          arm
          ${load("eth1", 0x32)}
          echo "${WORDS}" > /dev/kmsg
          ${crashAsUser(WORDS)}
          ${timedOut("eth1")}
          mark 0x30
          ${load("eth0", 0x31)}
          ${timedOut("eth0")}
          echo "qt-e2e: timeouts: eth0 $(cat /sys/class/net/eth0/queues/tx-0/tx_timeout), eth1 $(cat /sys/class/net/eth1/queues/tx-0/tx_timeout)"`;
}

/**
 * When the trip may come after the helper stopped eth0's queue: at the watchdog's next run. Its
 * timer runs every watchdog_timeo (5 s for virtio_net and e1000), rounded to a whole second
 * (round_jiffies: up to 1 s later), so up to 6 s after the stop; TCG's lateness on a busy host on top.
 */
const WATCHDOG_RUN = { marker: 0x31, minMs: 0, maxMs: 6500 }; // 2.6-4.9 s seen on 5.10, 6.1, 6.12 (two runs each)

/** The kernel's watchdog line for `dev`: 5.10's (WARN_ONCE: the first of a boot only), or 6.1's (stable updates) and 6.12's (netdev_crit: every one). */
const LOGGED_ONCE = (dev: string) => new RegExp(`NETDEV WATCHDOG: ${dev} \\([\\w-]+\\): transmit queue 0 timed out`);
const LOGGED_EACH = (dev: string) => new RegExp(`\\S+ \\S+ ${dev}: NETDEV WATCHDOG: CPU: \\d+: transmit queue 0 timed out \\d+ ms`);

async function boot(rules: string, helper: string, nics: Nic["model"][], kernelModules: string[], machine?: GuestMachine): Promise<number> {
  const run = await runGuest({
    module: rules,
    files: { [`/${basename(helper)}`]: helper },
    session: session(helper),
    nics: nics.map((model) => ({ netdev: "user,restrict=on", model })),
    kernelModules,
    ...(machine ? { machine } : {}),
    timeoutMs: 180_000,
  });
  markerAt(run, PHASE.armed);
  markerAt(run, PHASE.done);
  expect(run.console).not.toContain("qtrip-e2e: staprun failed");
  const [eth0, eth1] = nics.map((m) => (m === "e1000" ? "e1000" : "virtio_net"));
  expect(run.console).toContain(`qt-e2e: eth1 (${eth1}): transmit queue 0 stopped`);
  expect(run.console).toContain(`qt-e2e: eth0 (${eth0}): transmit queue 0 stopped`);
  expect(run.console).not.toContain("off (no ndo_tx_timeout)");
  // The watchdog's words reached the log from root and from the user's crash, before the marker.
  expect(run.console).toContain(WORDS);
  expect(run.console).toContain(crashReport(WORDS));
  // The kernel counted a timeout on each device, and logged eth1's before the marker: the excluded device's watchdog fired while armed.
  expect(run.console).toMatch(/qt-e2e: timeouts: eth0 [1-9]\d*, eth1 [1-9]\d*/);
  const eth1Line = (LOGGED_EACH("eth1").exec(run.console) ?? LOGGED_ONCE("eth1").exec(run.console))?.[0];
  expect(eth1Line, `no watchdog line for eth1; console:\n${run.console}`).toBeDefined();
  expect(consoleTextAt(run, eth1Line!)).toBeGreaterThan(markerAt(run, PHASE.armed));
  expect(consoleTextAt(run, eth1Line!)).toBeLessThan(markerAt(run, 0x30));
  const at = expectTrip(run, "tx", WATCHDOG_RUN);
  // Where the kernel logs every timeout, eth0's line follows the trip: the same run of the watchdog.
  // 5.10 logs the first of a boot only (eth1's): there eth0's proof is the kernel's counter above.
  if (LOGGED_EACH("eth1").test(eth1Line!)) {
    const eth0Line = LOGGED_EACH("eth0").exec(run.console)?.[0];
    expect(eth0Line, `no watchdog line for eth0; console:\n${run.console}`).toBeDefined();
    expect(msBetween(at, consoleTextAt(run, eth0Line!)!)).toBeGreaterThanOrEqual(0);
    expect(msBetween(at, consoleTextAt(run, eth0Line!)!)).toBeLessThan(1000);
  }
  return msBetween(markerAt(run, 0x31), at);
}

describeInstalled("qemu", "test-kernel", "stap")("event tx_timeout in a real guest", { timeout: 600_000 }, () => {
  test("6.1 (virtio_net): root's line, a crash with the watchdog's words and e1000's watchdog on eth1 do not trip; eth0's watchdog trips at its next run", async () => {
    const [rules, helper] = await Promise.all([buildRuleModule({ source: RULE }), buildModule(TX_STOP, "-g")]);
    const ms = await boot(rules, helper, ["virtio-net-pci", "e1000"], ["virtio_pci", "virtio_net", "e1000"]);
    console.log(`tx_timeout on 6.1: tripped ${ms.toFixed(1)} ms after eth0's queue stopped`);
  });

  // The same on another suite's kernel, with its SystemTap: 5.10 or 6.12, one a run (support/sample.ts).
  const OTHERS: Suite[] = ["bullseye", "trixie"];
  test.for(OTHERS.map((suite, i) => [suite, i] as const))("%s: eth1's watchdog does not trip; eth0's trips at its next run", async ([suite, i], ctx) => {
    const t = target(suite);
    if (!t) return ctx.skip(`no ${suite} target (bash .ci/targets ${suite})`);
    if (!taken("tx-timeout-suites", i, OTHERS.length)) return ctx.skip(sampledOut("tx-timeout-suites"));
    const [rules, helper] = await Promise.all([
      buildForTarget(t, compileRule({ source: RULE }).guest, `qt_tx_${suite}`),
      buildForTarget(t, TX_STOP, `qt_txstop_${suite}`),
    ]);
    expect(rules.ok, rules.stderr).toBe(true);
    expect(helper.ok, helper.stderr).toBe(true);
    // Debian 11's virtio_net has no ndo_tx_timeout (no virtnet_tx_timeout in its module): e1000 for both.
    const nics: Nic["model"][] = suite === "bullseye" ? ["e1000", "e1000"] : ["virtio-net-pci", "e1000"];
    const modules = suite === "bullseye" ? ["e1000"] : ["virtio_pci", "virtio_net", "e1000"];
    const ms = await boot(rules.module!, helper.module!, nics, modules, targetMachine(t));
    console.log(`tx_timeout on ${t.kernelRelease}: tripped ${ms.toFixed(1)} ms after eth0's queue stopped`);
  });
});
