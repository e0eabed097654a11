// What may come next in a condition, read off the condition specs' own
// patterns (`syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]`) with the
// checker's own walk (walkPattern): completion asks it for the next word,
// hover for the table a written name belongs to.
import { specs, walkPattern, type ConditionSpec, type NameTable, type PatternTerm } from "./compiler.js";

export type { PatternTerm };

export interface Next {
  /** Tables a name may come from here. */
  tables: NameTable[];
  /** Literal words of the pattern that may come here (`latency`, `error`). */
  words: string[];
}

/** What may follow `terms` in `entry`'s pattern; undefined if they do not fit it. */
function nextIn(entry: ConditionSpec, terms: readonly PatternTerm[]): Next | undefined {
  const walk = walkPattern(entry.pattern, terms);
  if (walk.kind !== "end") return undefined;
  // A list that ends with a comma takes another name.
  const last = terms.at(-1);
  const listing = last?.kind === "words" && last.open ? entry.pattern[walk.taken.lastIndexOf(terms.length - 1)] : undefined;
  if (listing) return "names" in listing ? { tables: [listing.names], words: [] } : undefined;
  // From where the terms ran out: optional name lists and the literal word after them, or what is needed next.
  const next: Next = { tables: [], words: [] };
  for (const part of entry.pattern.slice(walk.part)) {
    if ("word" in part) next.words.push(part.word);
    else if ("names" in part) next.tables.push(part.names);
    if (!("names" in part && part.optional)) break;
  }
  return next;
}

export function entriesOf(head: string): ConditionSpec[] {
  return specs.filter((e) => e.head === head);
}

/** What may follow `terms` after `head`, over every condition with that head word. */
export function nextAfter(head: string, terms: readonly PatternTerm[]): Next {
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
export function fittingEntries(head: string, terms: readonly PatternTerm[]): ConditionSpec[] {
  const all = entriesOf(head);
  const words = new Set(terms.flatMap((t) => (t.kind === "words" ? t.words : [])));
  const fitting = all.filter((e) => e.pattern.every((part) => !("word" in part) || words.has(part.word)));
  return fitting.length ? fitting : all;
}
