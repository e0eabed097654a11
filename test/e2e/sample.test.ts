// The e2e sample (support/sample.ts): every case lands on exactly one slot a run,
// and over the seeds each case meets every slot.
import { describe, expect, test } from "vitest";
import { FULL, onSlot, rotation, sampleSeed, taken } from "./support/sample.js";

describe.skipIf(FULL)("e2e sampling", () => {
  test("the seed is the commit under test (or QTRIP_SAMPLE)", () => {
    expect(sampleSeed()).toMatch(process.env.QTRIP_SAMPLE ? /./ : /^([0-9a-f]{40}|0)$/);
  });

  test("each case runs on exactly one slot, and the same one every time for one seed", () => {
    for (let i = 0; i < 17; i++) {
      const slots = [0, 1, 2].filter((s) => onSlot("k", i, s, 3));
      expect(slots).toHaveLength(1);
      expect([0, 1, 2].filter((s) => onSlot("k", i, s, 3))).toEqual(slots);
    }
  });

  test("taken: exactly count of n, consecutive from a rotating start", () => {
    for (const [n, count] of [[12, 3], [3, 1], [2, 1], [5, 5], [4, 9]] as const) {
      const chosen = [...Array(n).keys()].filter((i) => taken("t", i, n, count));
      expect(chosen).toHaveLength(Math.min(n, count));
      const start = rotation("t", n);
      expect(chosen.every((i) => (i - start + n) % n < count)).toBe(true);
    }
  });

  test("over many keys the rotation reaches every slot (no slot is never tested)", () => {
    const seen = new Set([...Array(64).keys()].map((k) => rotation(`key${k}`, 3)));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  test("a bad slot count is refused", () => {
    expect(() => rotation("k", 0)).toThrow(/positive integer/);
  });
});
