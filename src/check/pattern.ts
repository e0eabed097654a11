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

/**
 * Matches a condition's terms against a pattern. Optional name lists are taken
 * only when the group is not one of the pattern's literal words, so
 * `syscall latency` never reads `latency` as a system call.
 */
export function matchPattern(pattern: PatternPart[], condition: ast.Condition): MatchResult {
  const terms = condition.terms;
  const head = condition.head.name;
  const literalWords = pattern.flatMap((p) => ("word" in p ? [p.word] : []));
  const names: Record<string, ast.Word[]> = {};
  const strings: Record<string, ast.StringLit> = {};
  const notes = [`the syntax is: ${syntaxOf(head)}`];
  let i = 0;
  const endSpan = (): Span => {
    const last = terms[i - 1]?.span ?? condition.head.span;
    return { start: last.end, end: last.end };
  };
  const fail = (progress: number, span: Span, message: string, extra: { suggestion?: string; notes?: string[] } = { notes }) => ({
    failure: error("E0141", span, message, extra),
    progress,
  });

  for (const [k, part] of pattern.entries()) {
    const term = terms[i];
    const isGroup = term?.kind === "WordGroup";
    if ("word" in part) {
      if (isGroup && term.words.length === 1 && term.words[0].name === part.word) {
        i++;
        continue;
      }
      const where = term?.span ?? condition.comparison?.span ?? endSpan();
      const found = term ? (isGroup ? `'${term.words.map((w) => w.name).join(", ")}'` : "a string") : condition.comparison ? `'${condition.comparison.op}'` : "nothing";
      const hint = isGroup && term.words.length === 1 ? didYouMean(term.words[0].name, literalWords) : undefined;
      return fail(k, where, `expected '${part.word}' after '${head}${k > 0 ? " …" : ""}', found ${found}`, { ...(hint ? { suggestion: hint } : {}), notes });
    }
    if ("names" in part) {
      const takeable = isGroup && !(term.words.length === 1 && literalWords.includes(term.words[0].name));
      if (takeable) {
        if (part.single && term.words.length > 1) {
          return fail(k, term.words[1].span, `'${head}' takes one ${NAME_TABLES[part.names].noun}; write one rule for each`, {});
        }
        // A lone word that is a typo of the next literal word is that word misspelled, not a name.
        const next = pattern[k + 1];
        const nextWord = next && "word" in next ? next.word : undefined;
        if (part.optional && nextWord && term.words.length === 1 && !Object.hasOwn(NAME_TABLES[part.names].names, term.words[0].name)) {
          const hint = didYouMean(term.words[0].name, [nextWord]);
          if (hint && terms[i + 1]?.kind !== "WordGroup") {
            return fail(k + 1, term.span, `expected '${nextWord}', found '${term.words[0].name}'`, { suggestion: hint, notes });
          }
        }
        names[part.arg] = term.words;
        i++;
        continue;
      }
      if (part.optional) continue;
      return fail(k, term?.span ?? endSpan(), `expected ${expected(part)} after '${head}'`);
    }
    if (term?.kind === "String") {
      strings[part.string] = term;
      i++;
      continue;
    }
    return fail(k, term?.span ?? endSpan(), `expected ${expected(part)} after '${head}'`);
  }
  if (i < terms.length) {
    const extra = terms[i];
    const shown = extra.kind === "String" ? "string" : `'${(extra as ast.WordGroup).words.map((w) => w.name).join(", ")}'`;
    return fail(pattern.length, extra.span, `unexpected ${shown} in '${head}' condition`);
  }
  return { args: { names, strings } };
}
