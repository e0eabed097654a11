// Assertions shared by the scenarios: whether QEMU saw a trip, and when,
// relative to the marker qt-trigger writes as call k starts.
import { expect } from "vitest";
import { markerAt, trips, type GuestRun } from "./harness.js";

/** Every scenario's threshold. */
export const THRESHOLD_MS = 200;
/**
 * How late a trip may come here. Alone on the machine a trip lands 1-4 ms past the threshold
 * (one-shot scan timers; `npm run bench` measures it), but `npm test` runs two QEMU guests at
 * once on two cores, and a TCG vCPU thread that is not scheduled fires its timers late in
 * QEMU's clock too: 24 ms was seen in CI. The bound says "at the threshold, well inside the
 * stall", not how precise the trip is; every early trip still fails.
 */
export const SLACK_MS = 50;

export function msBetween(fromUs: number, toUs: number): number {
  return (toUs - fromUs) / 1000;
}

/** `atUs` (QEMU's clock) is THRESHOLD_MS to THRESHOLD_MS + SLACK_MS after call `call` started. */
export function expectAtThreshold(run: GuestRun, call: number, atUs: number): void {
  const latency = msBetween(markerAt(run, call), atUs);
  expect(latency).toBeGreaterThanOrEqual(THRESHOLD_MS);
  expect(latency).toBeLessThanOrEqual(THRESHOLD_MS + SLACK_MS);
}

/** The run tripped exactly once, at the threshold after call `call` started. */
export function expectOneTripAfterCall(run: GuestRun, call: number): void {
  const seen = trips(run);
  expect(seen, `trips; console:\n${run.console}`).toHaveLength(1);
  expectAtThreshold(run, call, seen[0]!.us);
}

/** For expectTrip: a trip THRESHOLD_MS to THRESHOLD_MS + SLACK_MS after `marker`. */
export function atThreshold(marker: number) {
  return { marker, minMs: THRESHOLD_MS, maxMs: THRESHOLD_MS + SLACK_MS };
}

/** For expectTrip: a trip within 200 ms of `marker`. */
export function soon(marker: number) {
  return { marker, minMs: 0, maxMs: 200 };
}

/**
 * The run tripped exactly once, logging `label`; with `from`, the trip came `minMs` to
 * `maxMs` after marker `from` (QEMU's clock for both).
 */
export function expectTrip(run: GuestRun, label: string, from?: { marker: number; minMs: number; maxMs: number }): number {
  const seen = trips(run);
  expect(seen, `trips; console:\n${run.console}`).toHaveLength(1);
  expect(run.console).toContain(`qtrip: tripped: ${label}: writing 0x1f to port 0x3ff`);
  const at = seen[0]!.us;
  if (from) {
    const ms = msBetween(markerAt(run, from.marker), at);
    expect(ms, `trip ${ms} ms after marker 0x${from.marker.toString(16)}`).toBeGreaterThanOrEqual(from.minMs);
    expect(ms, `trip ${ms} ms after marker 0x${from.marker.toString(16)}`).toBeLessThanOrEqual(from.maxMs);
  }
  return at;
}
