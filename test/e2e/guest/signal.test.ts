// `signal SIGKILL on comm "NAME"` in a real guest: the init kills sleeping qt-triggers
// that renamed themselves (comm:NAME).
import { test } from "vitest";
import { expectTrip } from "./expect-trip.js";
import { bootRules } from "./harness.js";
import { describeInstalled } from "../../support/installed.js";

/** Starts sleepers named after themselves: $pid_NAME is each one's pid. */
function sleepers(...names: string[]): string {
  return names.map((name) => `spawn ${name} comm:${name} nanosleep:60000\necho > /run/${name}.go`).join("\n");
}

describeInstalled("qemu", "test-kernel", "stap")("signal SIGKILL in a real guest", { timeout: 180_000 }, () => {
  const RULE = 'when signal SIGKILL on comm "victim" as "killed"\n';

  test("SIGKILL to a sleeping victim trips", async () => {
    const run = await bootRules(RULE, {
      session: `${sleepers("victim")}
                arm
                mark 0x30
                kill -KILL $pid_victim
                wait $pid_victim`,
    });
    expectTrip(run, "killed", { marker: 0x30, minMs: 0, maxMs: 100 });
  });

  test("SIGSTOP and SIGCONT to the victim and SIGKILL to another comm do not trip; then SIGKILL does", async () => {
    const run = await bootRules(RULE, {
      session: `${sleepers("victim", "bystander")}
                arm
                kill -STOP $pid_victim; kill -CONT $pid_victim
                kill -KILL $pid_bystander
                wait $pid_bystander
                sleep 1
                mark 0x31
                kill -KILL $pid_victim
                wait $pid_victim`,
    });
    expectTrip(run, "killed", { marker: 0x31, minMs: 0, maxMs: 100 });
  });

  // Regression: a fatal signal without a handler makes the kernel kill the whole group with
  // SIGKILL (complete_signal), and signal_deliver reported SIGKILL: SIGTERM tripped the rule.
  test("a SIGTERM that kills the victim does not trip; then SIGKILL does", async () => {
    const run = await bootRules(RULE, {
      session: `${sleepers("victim")}
                arm
                mark 0x30
                kill -TERM $pid_victim
                wait $pid_victim
                ${sleepers("victim")}
                sleep 1
                mark 0x31
                kill -KILL $pid_victim
                wait $pid_victim`,
    });
    expectTrip(run, "killed", { marker: 0x31, minMs: 0, maxMs: 100 });
  });

  // Regression: the generated test once read `$sig == 9 && <count the occurrence> && execname() == "victim"`:
  // the count was taken before the comm filter, so SIGKILLs to other tasks filled the window.
  test("2 times within 10s counts only the watched comm", async () => {
    const run = await bootRules('when signal SIGKILL on comm "victim" 2 times within 10s as "killed twice"\n', {
      session: `${sleepers("bystander", "victim")}
                arm
                kill -KILL $pid_bystander
                kill -KILL $pid_victim
                wait $pid_bystander $pid_victim
                sleep 1
                ${sleepers("victim")}
                mark 0x31
                kill -KILL $pid_victim
                wait $pid_victim`,
    });
    expectTrip(run, "killed twice", { marker: 0x31, minMs: 0, maxMs: 100 });
  });
});
