// docs/conditions.md is generated from the condition specs (stdlib/): it must be what
// `npm run generate` writes now, and say what `qtrip sources` says.
import { describe, expect, test } from "vitest";
import { conditionsPage } from "../../src/explain/conditions-page.js";
import { sources } from "../../src/explain/sources.js";
import { specs, KERNEL_EVENTS } from "../../stdlib/index.js";
import { anchors, read } from "./markdown.js";

describe("docs/conditions.md", () => {
  const page = conditionsPage();

  test("is current: run `npm run generate` after changing stdlib/ or the lowering", () => {
    expect(read("docs/conditions.md")).toBe(page);
  });

  test("has a section per condition spec, with its syntax, meaning, cost and example", () => {
    expect(specs.length).toBeGreaterThan(10);
    const headings = anchors(page);
    for (const s of sources()) {
      expect(headings).toContain(s.condition);
      expect(page).toContain(`\`${s.syntax}\`: holds when ${s.holds}.`);
      expect(page).toContain(`- **cost**: ${s.cost}: ${s.costDetail}`);
      expect(page).toContain(`\`\`\`qtrip\n${s.example}\n\`\`\``);
    }
  });

  test("names each kernel event's own probe points", () => {
    for (const name of KERNEL_EVENTS) expect(page).toMatch(new RegExp(`^\\| \`${name}\` \\| \`(kernel\\.trace|kprobe)`, "m"));
    expect(page).toContain('| `oops` | `kprobe.function("oops_enter")` |');
  });
});
