// Matching a condition's words against a condition's syntax pattern. The
// parser reads conditions generically (a head word, word groups, strings, a
// comparison); which words mean what is decided here, from the specs.
import { error, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type * as ast from "../syntax/ast.js";
import { specs, NAME_TABLES, type PatternPart } from "../../stdlib/index.js";

export type Bound = { names: Record<string, ast.Word[]>; strings: Record<string, ast.StringLit> };
export type MatchResult = { args: Bound } | { failure: Diagnostic; progress: number };

export function syntaxOf(head: string): string {
  return specs
    .filter((e) => e.head === head)
    .map((e) => e.syntax)
    .join("  |  ");
}

function expected(part: PatternPart): string {
  if ("word" in part) return `'${part.word}'`;
  if ("names" in part) return `${part.single ? "a" : "a list of"} ${NAME_TABLES[part.names].noun} name${part.single ? "" : "s"}`;
  return `a string ("…")`;
}

/** A condition's term as the pattern walker reads it: a group of words (`read, write`), or a string; an `open` group ends with a comma (text still being typed). */
export type PatternTerm = { kind: "words"; words: readonly string[]; open?: boolean } | { kind: "string" };

/** Which term each part took (`taken[part]`), and where the walk stopped. */
export type Walk = { taken: (number | undefined)[] } & (
  /** The terms ran out at `part` (`pattern.length`: the pattern is complete). */
  | { kind: "end"; part: number }
  /** Term `term` does not fit part `part`. */
  | { kind: "mismatch"; part: number; term: number }
  /** The pattern is complete with terms left, from `term`. */
  | { kind: "extra"; term: number }
);

/**
 * Walks a condition's terms through its pattern: the one walk for the checker
 * (which reports where it stops) and the editor's completion (which asks what
 * may come where the terms run out). An optional name list takes a group only
 * when it is not one of the pattern's literal words, so `syscall latency` never
 * reads `latency` as a system call.
 */
export function walkPattern(pattern: readonly PatternPart[], terms: readonly PatternTerm[]): Walk {
  const literals = pattern.flatMap((p) => ("word" in p ? [p.word] : []));
  const taken: (number | undefined)[] = [];
  let i = 0;
  for (const [part, spec] of pattern.entries()) {
    const term = terms[i];
    if (!term) return { kind: "end", part, taken };
    const lone = term.kind === "words" && term.words.length === 1 && !term.open ? term.words[0] : undefined;
    if ("word" in spec) {
      if (lone !== spec.word) return { kind: "mismatch", part, term: i, taken };
    } else if ("names" in spec) {
      if (term.kind !== "words" || (lone !== undefined && literals.includes(lone))) {
        if (spec.optional) continue;
        return { kind: "mismatch", part, term: i, taken };
      }
    } else if (term.kind !== "string") {
      return { kind: "mismatch", part, term: i, taken };
    }
    taken[part] = i++;
  }
  return i < terms.length ? { kind: "extra", term: i, taken } : { kind: "end", part: pattern.length, taken };
}

function patternTerm(term: ast.Term): PatternTerm {
  return term.kind === "String" ? { kind: "string" } : { kind: "words", words: term.words.map((w) => w.name) };
}

/** Matches a condition's terms against a pattern: its bound names and strings, or the first thing that does not fit. */
export function matchPattern(pattern: PatternPart[], condition: ast.Condition): MatchResult {
  const terms = condition.terms;
  const head = condition.head.name;
  const literalWords = pattern.flatMap((p) => ("word" in p ? [p.word] : []));
  const names: Record<string, ast.Word[]> = {};
  const strings: Record<string, ast.StringLit> = {};
  const notes = [`the syntax is: ${syntaxOf(head)}`];
  const endSpan = (): Span => {
    const last = terms.at(-1)?.span ?? condition.head.span;
    return { start: last.end, end: last.end };
  };
  const fail = (progress: number, span: Span, message: string, extra: { suggestion?: string; notes?: string[] } = { notes }) => ({
    failure: error("E0141", span, message, extra),
    progress,
  });
  const walk = walkPattern(pattern, terms.map(patternTerm));

  // What each part took, in the pattern's order: a name list has checks of its own.
  for (const [k, i] of walk.taken.entries()) {
    const part = pattern[k];
    const term = i === undefined ? undefined : terms[i];
    if (!term) continue;
    if (term.kind === "String") {
      strings[(part as { string: string }).string] = term;
      continue;
    }
    if (!("names" in part)) continue;
    if (part.single && term.words.length > 1) {
      return fail(k, term.words[1].span, `'${head}' takes one ${NAME_TABLES[part.names].noun}; write one rule for each`, {});
    }
    // A lone word that is a typo of the next literal word is that word misspelled, not a name.
    const next = pattern[k + 1];
    const nextWord = next && "word" in next ? next.word : undefined;
    if (part.optional && nextWord && term.words.length === 1 && !Object.hasOwn(NAME_TABLES[part.names].names, term.words[0].name)) {
      const hint = didYouMean(term.words[0].name, [nextWord]);
      if (hint && terms[i! + 1]?.kind !== "WordGroup") {
        return fail(k + 1, term.span, `expected '${nextWord}', found '${term.words[0].name}'`, { suggestion: hint, notes });
      }
    }
    names[part.arg] = term.words;
  }

  if (walk.kind === "extra") {
    const extra = terms[walk.term];
    const shown = extra.kind === "String" ? "string" : `'${extra.words.map((w) => w.name).join(", ")}'`;
    return fail(pattern.length, extra.span, `unexpected ${shown} in '${head}' condition`);
  }
  // Where the walk stopped: a term that does not fit, or the first part still needed when the terms ran out.
  const k = walk.kind === "mismatch" ? walk.part : pattern.findIndex((p, j) => j >= walk.part && !("names" in p && p.optional));
  if (k < 0) return { args: { names, strings } };
  const part = pattern[k];
  const term = walk.kind === "mismatch" ? terms[walk.term] : undefined;
  if ("word" in part) {
    const where = term?.span ?? condition.comparison?.span ?? endSpan();
    const isGroup = term?.kind === "WordGroup";
    const found = term ? (isGroup ? `'${term.words.map((w) => w.name).join(", ")}'` : "a string") : condition.comparison ? `'${condition.comparison.op}'` : "nothing";
    const hint = isGroup && term.words.length === 1 ? didYouMean(term.words[0].name, literalWords) : undefined;
    return fail(k, where, `expected '${part.word}' after '${head}${k > 0 ? " …" : ""}', found ${found}`, { ...(hint ? { suggestion: hint } : {}), notes });
  }
  return fail(k, term?.span ?? endSpan(), `expected ${expected(part)} after '${head}'`);
}
