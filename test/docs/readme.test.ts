// The README stays a page read in five minutes, and its install-and-test commands are the
// ones CI runs (.ci/run: "exactly the README's two commands").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../support/stap.js";
import { fences, read } from "./markdown.js";

const commands = (text: string) =>
  text
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l && !/^(set|cd) /.test(l));

test("README.md is at most 150 lines", () => {
  expect(read("README.md").split("\n").length).toBeLessThanOrEqual(150);
});

test("README.md's install-and-test block is what .ci/run runs", () => {
  const block = fences(read("README.md")).find((f) => f.text.includes(".ci/install"));
  expect(block && commands(block.text)).toEqual(["bash .ci/install", "npm test"]);
  const ci = readFileSync(join(repoRoot, ".ci/run"), "utf8").replace(/^#!.*\n/, "");
  expect(commands(ci)).toEqual(["bash .ci/install", "npm test"]);
});
