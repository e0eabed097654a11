// `tick gap > D` in a real guest: the host stops the whole QEMU process (SIGSTOP) while the
// guest spins (qt-trigger spin:MS, a busy loop without system calls) or idles.
//
// Not the monitor's `stop`: under TCG it freezes the guest's clocks too (QEMU stops its
// virtual clock and the TSC with the VM), so the guest cannot see the pause at all.
import { describe, expect, test } from "vitest";
import { expectTrip, msBetween } from "./expect-trip.js";
import { bootRules, type RunningGuest } from "./harness.js";

const RULE = 'when tick gap > 500ms as "vcpu stalled"\n';

/** Pauses the guest `pauseMs` once `delayMs` have passed after marker `marker`; returns when it resumed (host µs). */
async function pauseAfter(guest: RunningGuest, marker: number, delayMs: number, pauseMs: number): Promise<number> {
  await guest.marker(marker);
  await new Promise((r) => setTimeout(r, delayMs));
  await guest.pause(pauseMs);
  return Date.now() * 1000;
}

describe("tick gap in a real guest", { timeout: 180_000 }, () => {
  test("a busy vCPU stopped for 1.5 s trips as it resumes", async () => {
    let resumed = 0;
    const run = await bootRules(RULE, {
      session: `spawn t spin:5000
                arm
                run t`,
      control: async (guest) => {
        resumed = await pauseAfter(guest, 1, 1000, 1500);
      },
    });
    const at = expectTrip(run, "vcpu stalled");
    // On its first tick back: within a few ticks of the resume.
    expect(msBetween(resumed, at)).toBeGreaterThanOrEqual(-5);
    expect(msBetween(resumed, at)).toBeLessThanOrEqual(100);
  });

  test("a pause while idle and a short pause while busy do not trip; then a long pause while busy does", async () => {
    let resumed = 0;
    // Call 1: a 3 s sleep (idle guest), paused 1.5 s; call 2: a spin paused 300 ms; call 3: a spin paused 1.5 s.
    const run = await bootRules(RULE, {
      session: `spawn t nanosleep:3000 spin:1500 spin:4000
                arm
                run t`,
      control: async (guest) => {
        await pauseAfter(guest, 1, 500, 1500);
        await pauseAfter(guest, 2, 300, 300);
        resumed = await pauseAfter(guest, 3, 500, 1500);
      },
    });
    const at = expectTrip(run, "vcpu stalled");
    expect(msBetween(resumed, at)).toBeGreaterThanOrEqual(-5);
    expect(msBetween(resumed, at)).toBeLessThanOrEqual(100);
  });
});
