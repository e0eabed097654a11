// What may come next in a condition, read off the condition specs' own
// patterns (`syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]`): completion asks
// it for the next word, hover for the table a written name belongs to.
import { specs, type ConditionSpec, type NameTable } from "./compiler.js";

/** A condition's terms after its head word: names, `,` between names, and strings. */
export type Term = { kind: "word"; text: string } | { kind: "comma" } | { kind: "string" };

export interface Next {
  /** Tables a name may come from here. */
  tables: NameTable[];
  /** Literal words of the pattern that may come here (`latency`, `error`). */
  words: string[];
}

type Part = ConditionSpec["pattern"][number];

/** The first literal word at or after `from`, skipping optional name lists. */
function literalsFrom(parts: readonly Part[], from: number): string[] {
  const words: string[] = [];
  for (const part of parts.slice(from)) {
    if ("word" in part) return [...words, part.word];
    if (!("names" in part) || !part.optional) break;
  }
  return words;
}

/** What may follow `terms` in `entry`'s pattern; undefined if they do not fit it. */
function nextIn(entry: ConditionSpec, terms: readonly Term[]): Next | undefined {
  const parts = entry.pattern;
  let i = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    const term = terms[i];
    if ("word" in part) {
      if (!term) return { tables: [], words: [part.word] };
      if (term.kind !== "word" || term.text !== part.word) return undefined;
      i++;
    } else if ("string" in part) {
      if (!term) return { tables: [], words: [] };
      if (term.kind !== "string") return undefined;
      i++;
    } else {
      const following = literalsFrom(parts, p + 1);
      if (!term) return { tables: [part.names], words: part.optional ? following : [] };
      if (term.kind !== "word") return undefined;
      if (part.optional && following.includes(term.text)) continue;
      i++;
      while (terms[i]?.kind === "comma") {
        if (!terms[i + 1]) return { tables: [part.names], words: [] };
        if (terms[i + 1].kind !== "word") return undefined;
        i += 2;
      }
      if (!terms[i]) return { tables: [], words: following };
    }
  }
  return i === terms.length ? { tables: [], words: [] } : undefined;
}

export function entriesOf(head: string): ConditionSpec[] {
  return specs.filter((e) => e.head === head);
}

/** What may follow `terms` after `head`, over every condition with that head word. */
export function nextAfter(head: string, terms: readonly Term[]): Next {
  const tables = new Set<NameTable>();
  const words = new Set<string>();
  for (const entry of entriesOf(head)) {
    const next = nextIn(entry, terms);
    for (const t of next?.tables ?? []) tables.add(t);
    for (const w of next?.words ?? []) words.add(w);
  }
  return { tables: [...tables], words: [...words] };
}

/** The conditions `terms` fit so far (all of the head's when none fits, e.g. while the terms are unfinished). */
export function fittingEntries(head: string, terms: readonly Term[]): ConditionSpec[] {
  const all = entriesOf(head);
  const words = new Set(terms.flatMap((t) => (t.kind === "word" ? [t.text] : [])));
  const fitting = all.filter((e) => e.pattern.every((part) => !("word" in part) || words.has(part.word)));
  return fitting.length ? fitting : all;
}
