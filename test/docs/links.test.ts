// Every link in the documentation resolves inside the repository: a relative link names a file
// or folder that exists (and a heading of that page, when it has an #anchor); a link that
// leaves the repository goes only to the upstream documentation listed here.
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../support/stap.js";
import { anchors, links, pages, read, slug } from "./markdown.js";

/** Upstream documentation a page may point to (none is needed today); anything else outside is an error. */
const UPSTREAM = [
  "https://sourceware.org/systemtap/",
  "https://docs.kernel.org/",
  "https://www.kernel.org/doc/",
  "https://crash-utility.github.io/",
  "https://drgn.readthedocs.io/",
  "https://docs.oasis-open.org/sarif/",
];

interface Problem {
  page: string;
  target: string;
  why: string;
}

function problems(page: string): Problem[] {
  const out: Problem[] = [];
  for (const target of links(read(page))) {
    const bad = (why: string) => out.push({ page, target, why });
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      if (!UPSTREAM.some((u) => target.startsWith(u))) bad("points outside the repository");
      continue;
    }
    const [path = "", anchor] = target.split("#", 2);
    const file = path === "" ? join(repoRoot, page) : resolve(dirname(join(repoRoot, page)), decodeURI(path));
    const inRepo = relative(repoRoot, file);
    if (inRepo.startsWith("..")) {
      bad("leaves the repository");
      continue;
    }
    if (!existsSync(file)) {
      bad("no such file");
      continue;
    }
    if (anchor !== undefined && file.endsWith(".md") && statSync(file).isFile() && !anchors(read(inRepo)).has(anchor)) bad("no such heading");
  }
  return out;
}

describe("the link checker", () => {
  test("makes GitHub's anchors", () => {
    expect(slug("Building elsewhere (`qtrip build`)")).toBe("building-elsewhere-qtrip-build");
    expect(slug("3. Set up kdump on the hypervisor")).toBe("3-set-up-kdump-on-the-hypervisor");
    expect(slug("Ubuntu 22.04")).toBe("ubuntu-2204");
    expect([...anchors("# A\n\n## Notes\n\n```\n## not a heading\n```\n\n## Notes\n")]).toEqual(["a", "notes", "notes-1"]);
  });

  test("finds links outside code, and sees a broken one", () => {
    expect(links("see [a](a.md) and `[b](b.md)`\n\n```\n[c](c.md)\n```\n![d](d.svg)")).toEqual(["a.md", "d.svg"]);
    expect(links("[x](https://example.com/)")).toEqual(["https://example.com/"]);
  });
});

describe("every link in README.md, docs/ and grammar/ resolves inside the repository", () => {
  test("the pages have links to check", () => {
    expect(pages()).toContain("README.md");
    expect(pages().flatMap((p) => links(read(p))).length).toBeGreaterThan(100);
  });

  test.each(pages())("%s", (page) => {
    expect(problems(page)).toEqual([]);
  });
});
