// What the documentation tests read from the Markdown pages: the pages, their fenced
// blocks, their links and their headings' anchors (GitHub's rules, for the subset we use).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../support/stap.js";

/** README.md, docs/**\/*.md and grammar/*.md, relative to the repository's root. */
export function pages(): string[] {
  const under = (dir: string): string[] =>
    readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? under(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  return ["README.md", ...under("docs"), ...under("grammar")].sort();
}

export const read = (page: string) => readFileSync(join(repoRoot, page), "utf8");

export interface Fence {
  /** The info string after the opening fence: "qtrip", "" … */
  tag: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Fenced code blocks (``` only, possibly indented inside a list item). */
export function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  let open: { tag: string; line: number; indent: number; lines: string[] } | undefined;
  markdown.split("\n").forEach((raw, i) => {
    const m = /^( *)```(.*)$/.exec(raw);
    if (!open && m) open = { tag: m[2]!.trim(), line: i + 1, indent: m[1]!.length, lines: [] };
    else if (open && m && m[2]!.trim() === "") {
      out.push({ tag: open.tag, text: open.lines.join("\n") + "\n", line: open.line });
      open = undefined;
    } else if (open) open.lines.push(raw.slice(Math.min(open.indent, raw.length - raw.trimStart().length)));
  });
  if (open) throw new Error(`a fence opened at line ${open.line} is never closed`);
  return out;
}

/** The text outside fenced blocks and code spans, where links and headings are. */
export function prose(markdown: string): string {
  const lines = markdown.split("\n");
  let inside = false;
  return lines
    .map((l) => {
      if (/^ *```/.test(l)) {
        inside = !inside;
        return "";
      }
      return inside ? "" : l.replace(/`[^`]*`/g, "code");
    })
    .join("\n");
}

/** Inline links' targets: [text](target) and ![alt](target). */
export function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a page has; a repeated heading gets -1, -2 … as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.split("\n");
  let inside = false;
  for (const line of text) {
    if (/^ *```/.test(line)) inside = !inside;
    const m = !inside && /^#{1,6} +(.*?) *#*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
