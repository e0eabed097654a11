// `when A then B within D` in a real guest, one boot for every scenario: A is a SIGUSR1 sent to
// a task named qt-seq (one blocked in read(2), which the signal kills), B a nanosleep(2) of a
// task named qt-seq that lasts past 200 ms. Only the last B may trip: B alone, and B after the
// window, do not; the last B comes 2.2 s after one A (outside the 2 s window) but 1.2 s after a
// later one, so it trips only because each A restarts the window. A trip ends what a script
// can do, so the quiet scenarios come first, and the one trip at the right moment proves that
// the script was armed and watching all along. The second boot turns the sides around (A a
// latency, stamped from the in-flight scan's C; B a signal, judged in its handler) and holds two
// sequences, whose states are their own.
import { describe, test } from "vitest";
import { atThreshold, expectTrip, soon } from "./expect-trip.js";
import { bootRules } from "./harness.js";

const RULE = 'when signal SIGUSR1 on comm "qt-seq" then syscall nanosleep latency > 200ms on comm "qt-seq" within 2s as "sequence" allow W0004\n';

describe("when A then B within D in a real guest", { timeout: 180_000 }, () => {
  test("B alone and B after the window do not trip; B within 2 s of the latest A does", async () => {
    const run = await bootRules(RULE, {
      session: `for n in a1 a2 a3; do spawn $n comm:qt-seq read:60000; done
                spawn b0 comm:qt-seq base:0x10 nanosleep:400
                spawn b1 comm:qt-seq base:0x20 nanosleep:400
                spawn b2 comm:qt-seq base:0x30 nanosleep:400
                for n in a1 a2 a3; do echo > /run/$n.go; done
                sleep 1
                arm
                run b0
                kill -USR1 $pid_a1; wait $pid_a1
                sleep 3
                run b1
                kill -USR1 $pid_a2; wait $pid_a2
                sleep 1
                kill -USR1 $pid_a3; wait $pid_a3
                sleep 1
                run b2`,
    });
    expectTrip(run, "sequence", atThreshold(0x31));
  });

  test("a latency as A, a signal as B: B alone and B after the other rule's A do not trip; B after its own A does", async () => {
    const rules = `${RULE}when syscall nanosleep latency > 200ms on comm "qt-seq-a" then signal SIGUSR2 on comm "qt-seq" within 2s as "signal after a slow sleep" allow W0004\n`;
    const run = await bootRules(rules, {
      session: `for n in v1 v2 v3 v4; do spawn $n comm:qt-seq read:60000; done
                spawn a comm:qt-seq-a base:0x30 nanosleep:400
                for n in v1 v2 v3 v4; do echo > /run/$n.go; done
                sleep 1
                arm
                kill -USR2 $pid_v1; wait $pid_v1
                kill -USR1 $pid_v2; wait $pid_v2
                kill -USR2 $pid_v3; wait $pid_v3
                run a
                mark 0x40
                kill -USR2 $pid_v4; wait $pid_v4`,
    });
    expectTrip(run, "signal after a slow sleep", soon(0x40));
  });
});
