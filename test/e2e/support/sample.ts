// Sampling of equivalent end-to-end cases, for CI's time budget (docs/testing.md).
//
// Some cases repeat one check on each Debian suite's kernel, or on each host
// action: each run takes a sample of them, chosen from the commit under test,
// so one commit's run always takes the same sample and successive commits take
// the others in turn. QTRIP_FULL=1 takes them all; QTRIP_SAMPLE=TEXT chooses
// another sample (the seed in place of the commit). What a run left out is
// reported as skipped, with the reason and the variable that brings it back.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { repoRoot } from "../../support/stap.js";

export const FULL = process.env.QTRIP_FULL === "1";

let seed: string | undefined;

/** The sample's seed: QTRIP_SAMPLE, else the commit under test, else "0" outside a git work tree. */
export function sampleSeed(): string {
  if (seed !== undefined) return seed;
  seed = process.env.QTRIP_SAMPLE ?? "";
  if (!seed) {
    try {
      seed = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      seed = "0";
    }
  }
  return seed;
}

/** A number in [0, n) that depends only on the seed and the key. */
export function rotation(key: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`rotation: n must be a positive integer, not ${n}`);
  const digest = createHash("sha256").update(`${sampleSeed()}\0${key}`).digest();
  return digest.readUInt32BE(0) % n;
}

/**
 * Whether case `i` of a set runs on slot `slot` of `slots` this run: each case
 * runs on exactly one slot, and the slots each case lands on rotate with the
 * seed (case i on slot (i + r) mod slots). With QTRIP_FULL=1, every case on every slot.
 */
export function onSlot(key: string, i: number, slot: number, slots: number): boolean {
  if (FULL) return true;
  return (i + rotation(key, slots)) % slots === slot;
}

/** Whether item `i` of `n` is among the `count` taken this run (consecutive, from a rotating start). */
export function taken(key: string, i: number, n: number, count = 1): boolean {
  if (FULL || count >= n) return true;
  const start = rotation(key, n);
  return (i - start + n) % n < count;
}

/** The reason a sampled-out case gives when it is skipped. */
export function sampledOut(key: string): string {
  return `sampled out of this run (${key}, seed ${sampleSeed().slice(0, 12)}); QTRIP_FULL=1 runs every case`;
}
