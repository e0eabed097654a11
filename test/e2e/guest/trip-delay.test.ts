// The trip and the kernel's console: the port write must not wait for the console.
// A guest with 2 vCPUs: on CPU 0 a helper module of the test's own stores a backlog of
// console lines while it holds the console, then prints them (as a CPU does while it
// dumps hung tasks or RCU stalls to a serial console); meanwhile, on CPU 1, a line that
// a `message` rule matches trips. A printk on CPU 1 at that moment would take the console
// over (printk's hand-over to a waiting CPU) and print the whole backlog before returning.
import { basename } from "node:path";
import { expect, test } from "vitest";
import { expectTrip, msBetween } from "./expect-trip.js";
import { bootRules, buildModule, consoleTextAt, markerAt } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

const LINES = 1500;
const LAST_LINE = `qtrip-e2e: backlog line ${LINES - 1}:`;

/** A guru-mode module whose begin probe stores LINES console lines under the console lock, then prints them all. */
function backlogHelper(): Promise<string> {
  return buildModule(
    `%{
#include <linux/console.h>
%}
function backlog() %{
	int i;
	if (!console_trylock())
		return;
	for (i = 0; i < ${LINES}; i++)
		printk(KERN_INFO "qtrip-e2e: backlog line %d: ................................................\\n", i);
	console_unlock();
%}
probe begin { backlog() }
`,
    "-g",
  );
}

describeInstalled("qemu", "test-kernel", "stap")("the trip while the console is flooded", { timeout: 240_000 }, () => {
  test("a trip on one CPU while another prints a long console backlog writes the port at once", async () => {
    const helper = await backlogHelper();
    const run = await bootRules('when message "qtrip-e2e: trip now" as "flood"\n', {
      smp: 2,
      files: { [`/${basename(helper)}`]: helper },
      // The lines are all stored before the helper starts printing them: once dmesg (the
      // log buffer, not the console) shows the last one, CPU 0 is printing the backlog.
      session: `arm
                taskset 1 staprun -L /${basename(helper)} &
                taskset 2 sh -c 'until dmesg | grep -q "${LAST_LINE}"; do :; done
                  /bin/qt-trigger mark:0x30
                  echo "qtrip-e2e: trip now" > /dev/kmsg'
                wait`,
      timeoutMs: 180_000,
    });
    const printedLast = consoleTextAt(run, LAST_LINE);
    expect(printedLast, run.console).toBeDefined();
    const trip = expectTrip(run, "flood");
    const delayMs = msBetween(markerAt(run, 0x30), trip);
    console.log(`trip ${delayMs.toFixed(2)} ms after the matching line was written; backlog printed until ${msBetween(markerAt(run, 0x30), printedLast!).toFixed(0)} ms`);
    // The backlog was still being printed when the port was written...
    expect(printedLast!).toBeGreaterThan(trip);
    // ...and the write did not wait for it.
    expect(delayMs).toBeGreaterThanOrEqual(0);
    expect(delayMs).toBeLessThanOrEqual(100);
  });
});
