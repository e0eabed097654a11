// The customer's guest as it really is (issue #12): each Debian suite's stock
// install (.ci/stock) booted with its own kernel, and the guest script run
// exactly as its header says, through the launcher `qtrip compile` writes
// beside it: the guest's own stap builds the module (passes 1 and 2 in the
// guest, the module from the SystemTap cache .ci/stock made with the same
// command on the same file system; QTRIP_STOCK_COLD=1: all of it in the guest),
// its staprun loads it, and QEMU sees the trip at the threshold and not before.
// Where the guest lacks something, the launcher says what before anything runs.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { onSlot, sampledOut } from "../support/sample.js";
import { compileSource } from "../../../src/compile.js";
import { atThreshold, expectTrip, msBetween, SLACK_MS, soon } from "../guest/expect-trip.js";
import { markerAt, NMI_BACKTRACE, pauseAfter, SYSRQ, trips, virtioDisk, type GuestRun, type RunningGuest } from "../guest/harness.js";
import { armedAfterSeconds, bootStock, COLD_CACHE, headerLauncherCommand, listStock, startAndAwaitArmed, STOP_COMMAND, warmedFor } from "./stock-guest.js";
import { describeInstalled } from "../../support/installed.js";

function compiled(source: string, fileName: string) {
  const { outputs } = compileSource(source, { fileName });
  if (!outputs) throw new Error(`${fileName} does not compile`);
  return outputs;
}


/** The rules whose SystemTap cache .ci/stock puts in each image (./rules), compiled as the CLI compiles them. */
const RULES = join(dirname(fileURLToPath(import.meta.url)), "rules");
const rule = (file: string) => compiled(readFileSync(join(RULES, file), "utf8"), file);
const READ = rule("read.qt");
const SLEEP = rule("sleep.qt");

interface Scenario {
  what: string;
  outputs: ReturnType<typeof compiled>;
  /** The header's command as the test types it: VALUE replaced. */
  command: (header: string) => string;
  /** Session lines: spawn the workload as `t` (startAndAwaitArmed and `run` follow). */
  spawn: string;
  /** Session lines once armed (default: `run t`). */
  run?: string;
  /** Disks after the stock root, made per boot. */
  drives?: () => string[];
  control?: (guest: RunningGuest) => Promise<number>;
  /** Checks the trip; `resumed` is what control returned. */
  check: (run: GuestRun, resumed: number) => void;
}

const SCENARIOS: Scenario[] = [
  {
    what: "a tracepoint rule with a run-time parameter (-G pid=…): calls 1-3 last 100 ms, call 4 one second; it trips 200 ms in",
    outputs: READ,
    command: (header) => header.replace("VALUE", "$pid_t"),
    spawn: "spawn t read:100x3 read:1000",
    check: (run) => void expectTrip(run, "slow read", atThreshold(4)),
  },
  {
    what: "a kprobe on a kernel function, its symbol table made from the guest's /proc/kallsyms (KASLR moves it every boot), with a run-time parameter: sleeps of 100 ms do not trip, one of 1 s does",
    outputs: SLEEP,
    command: (header) => header.replace("VALUE", "$pid_t"),
    spawn: "spawn t nanosleep:100x3 nanosleep:1000",
    check: (run) => {
      expectTrip(run, "slow sleep", atThreshold(4));
      expect(run.console).toContain("using the function names in /proc/kallsyms");
    },
  },
  {
    what: "the original post's trigger, event nmi_backtrace (a kprobe on the kernel): sysrq-m does not trip, sysrq-l does",
    outputs: rule("nmi.qt"),
    command: (header) => header,
    spawn: SYSRQ,
    run: `echo m > /proc/sysrq-trigger
          mark 0x30
          ${NMI_BACKTRACE}
          sleep 1`,
    check: (run) => void expectTrip(run, "nmi backtrace", soon(0x30)),
  },
  {
    // As function-module-latency.test.ts: vdb is throttled by QEMU to five write requests a second.
    what: "a kprobe on a module's function: fsyncs on the stock disk and a slow call of another function do not trip; an fsync on a throttled disk does",
    outputs: rule("fsync.qt"),
    command: (header) => header,
    drives: () => [virtioDisk({ mib: 16, ext4: true, throttling: "iops-write=5" })],
    spawn: `mkdir -p /mnt/slow && mount -t ext4 /dev/vdb /mnt/slow
            spawn t fsync:/newroot/tmp/fx20 nanosleep:400 fsync:/mnt/slow/f`,
    check: (run) => void expectTrip(run, "slow fsync", atThreshold(22)),
  },
  {
    what: "a timer-tick rule: a busy vCPU the host stops for 1.5 s trips as it resumes",
    outputs: rule("tick.qt"),
    command: (header) => header,
    spawn: "spawn t spin:5000",
    control: (guest) => pauseAfter(guest, 1, 1000, 1500),
    check: (run, resumed) => {
      const at = expectTrip(run, "vcpu stalled");
      // `resumed`: when QMP's reply to `cont` reached the test, after the vCPU runs again (tick-gap.test.ts).
      expect(msBetween(resumed, at)).toBeGreaterThanOrEqual(-50);
      expect(msBetween(resumed, at)).toBeLessThanOrEqual(100 + SLACK_MS);
    },
  },
];

/** QTRIP_STOCK_COLD=1: the guest's SystemTap cache emptied first, the first run a user sees (up to an hour under TCG). */
const COLD = process.env.QTRIP_STOCK_COLD === "1";

/** The lines the session echoes, "qtrip-e2e: NAME status N". */
function status(run: GuestRun, name: string): number | undefined {
  const m = new RegExp(`qtrip-e2e: ${name} status (\\d+)`).exec(run.console);
  return m ? Number(m[1]) : undefined;
}

const STOCK = listStock();
for (const [slot, entry] of STOCK.entries()) {
  const ready = entry.target ? entry : undefined;
  const name = ready ? `Debian ${ready.target.debianVersion} (${ready.target.kernelRelease}, SystemTap ${ready.target.stapVersion})` : entry.suite;
  describeInstalled("qemu").skipIf(!ready)(`${name}: a stock install as the guest`, () => {
    test("the launcher says what is missing before anything runs: a kprobe rule without /proc/kallsyms, any rule without kernel headers", { timeout: 600_000 }, async () => {
      const release = ready!.target.kernelRelease;
      const run = await bootStock(ready!, {
        files: {
          [SLEEP.guestName]: SLEEP.guest,
          [SLEEP.launcherName]: SLEEP.launcher,
          [READ.guestName]: READ.guest,
          [READ.launcherName]: READ.launcher,
        },
        // Without /proc in the stock root, as in a chroot without it: no kallsyms to make a symbol table from.
        session: `umount /newroot/proc
                  in_stock "${headerLauncherCommand(SLEEP.guest).replace("VALUE", "1")}"; echo "qtrip-e2e: symbols status $?"
                  mount --bind /proc /newroot/proc
                  rm /newroot/lib/modules/${release}/build
                  in_stock "${headerLauncherCommand(READ.guest).replace("VALUE", "1")}"; echo "qtrip-e2e: headers status $?"
                  echo "qtrip-e2e: SystemTap modules loaded: $(grep -c '^stap_' /proc/modules)"`,
      });
      expect(run.console).toContain(
        `qtrip: this rule's kprobes need kernel ${release}'s symbol table, and /proc/kallsyms is not readable (no /proc mounted, or a kernel built without CONFIG_KALLSYMS): build elsewhere with that kernel's System.map: qtrip build RULE.qt --kernel ${release}`,
      );
      expect(status(run, "symbols"), run.console).toBe(1);
      expect(run.console).toContain(`qtrip: no headers for the running kernel ${release}: /lib/modules/${release}/build does not exist (Debian, Ubuntu: apt install linux-headers-${release}`);
      expect(status(run, "headers"), run.console).toBe(1);
      // Nothing ran: no stap pass started, no module loaded, no write.
      expect(run.console).not.toMatch(/qtrip: running: stap|^Pass \d/m);
      expect(run.console).toContain("qtrip-e2e: SystemTap modules loaded: 0");
      expect(trips(run)).toHaveLength(0);
    });

    // Each rule boots one suite's stock guest a run, the suite rotating with the commit (support/sample.ts).
    for (const [i, scenario] of SCENARIOS.entries()) {
      const { outputs } = scenario;
      const header = headerLauncherCommand(outputs.guest);
      test(`the header's command (${header}), as it says, builds in the guest${COLD ? " with a cold cache" : ""}: ${scenario.what}`, { timeout: COLD ? 3_900_000 : 600_000 }, async (ctx) => {
        if (!COLD && !onSlot("stock", i, slot, STOCK.length)) return ctx.skip(sampledOut("stock"));
        const warm = warmedFor(ready!.stock, outputs.guestName, outputs.guest);
        expect(warm, `${ready!.stock.image} holds no SystemTap cache for this ${outputs.guestName}: run bash .ci/stock ${entry.suite}`).toBe(true);
        let resumed = 0;
        const run = await bootStock(ready!, {
          files: { [outputs.guestName]: outputs.guest, [outputs.launcherName]: outputs.launcher },
          ...(scenario.drives ? { drives: scenario.drives() } : {}),
          session: `${COLD ? COLD_CACHE : ""}
                    ${scenario.spawn}
                    ${startAndAwaitArmed(scenario.command(header))}
                    ${scenario.run ?? "run t"}
                    ${STOP_COMMAND}`,
          ...(scenario.control ? { control: async (guest: RunningGuest) => void (resumed = await scenario.control!(guest)) } : {}),
          timeoutMs: COLD ? 3_800_000 : 540_000,
        });
        markerAt(run, 0xf2); // the session reached its end
        scenario.check(run, resumed);
        // The guest's own stap stopped at the end (SIGTERM) and unloaded its module.
        expect(run.console).toContain("qtrip-e2e: command exited with status 0");
        console.log(`${name}: stock guest, ${COLD ? "cold" : "warm"} SystemTap cache, ${outputs.guestName}: armed ${armedAfterSeconds(run)} s after the header's command started`);
      });
    }
  });
}
