// The pattern of `message "TEXT %u TEXT" > N`: literal text around one number
// placeholder, read where a kernel log line carries a number. The checker
// reports its problems; the spec reads its parts; both call this one reader.

/** Words for a unit right after the placeholder ("%u ns", "%uns", "%u usecs"), with their nanoseconds. */
export const LINE_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  nsec: 1n,
  nsecs: 1n,
  us: 1_000n,
  usec: 1_000n,
  usecs: 1_000n,
  ms: 1_000_000n,
  msec: 1_000_000n,
  msecs: 1_000_000n,
  s: 1_000_000_000n,
  sec: 1_000_000_000n,
  secs: 1_000_000_000n,
  seconds: 1_000_000_000n,
};

export interface LinePattern {
  /** The text the line has right before the number (never empty). */
  before: string;
  /** The text the line has right after it (may be empty). */
  after: string;
  /** The unit the line gives the number in, when a unit word follows the placeholder. */
  unit?: { word: string; nanoseconds: bigint };
}

/** What is wrong with a pattern, at `start`..`end` of its decoded text (UTF-16 indices). */
export interface LinePatternProblem {
  problem: "no placeholder" | "two placeholders" | "unknown directive" | "unanchored";
  start: number;
  end: number;
  message: string;
  suggestion?: string;
}

const DIGIT = /[0-9]/;

/** Reads a pattern: `%u` the number, `%%` a '%', any other text as it is. */
export function readLinePattern(text: string): LinePattern | LinePatternProblem {
  let literal = "";
  const placeholders: number[] = [];
  let before = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "%") {
      literal += text[i];
      continue;
    }
    const next = text[i + 1];
    if (next === "%") {
      literal += "%";
      i++;
    } else if (next === "u") {
      placeholders.push(i);
      if (placeholders.length === 1) {
        before = literal;
        literal = "";
      }
      i++;
    } else {
      return unknownDirective(text, i);
    }
  }
  if (placeholders.length === 0) {
    return {
      problem: "no placeholder",
      start: 0,
      end: text.length,
      message: "a comparison needs a number in the text: it has no %u",
      suggestion: 'put %u where the kernel\'s line has the number, e.g. "interrupt took %u ns"',
    };
  }
  if (placeholders.length > 1) {
    const at = placeholders[1];
    return { problem: "two placeholders", start: at, end: at + 2, message: "the text has more than one %u: a rule compares one number", suggestion: "keep one %u; write the other number's digits, or leave that part of the line out" };
  }
  const at = placeholders[0];
  const after = literal;
  if (before === "" || DIGIT.test(before.at(-1)!) || DIGIT.test(after[0] ?? "")) {
    return {
      problem: "unanchored",
      start: at,
      end: at + 2,
      ...(before === ""
        ? { message: "%u needs text before it: the number is read right after that text", suggestion: 'start with the words the kernel logs before the number, e.g. "took %u ns"' }
        : { message: "a digit touches %u: it would be read as part of the line's number", suggestion: "leave the digit out, or keep a space or another non-digit between it and %u" }),
    };
  }
  const word = /^ ?([A-Za-z]+)/.exec(after)?.[1] ?? "";
  return { before, after, ...(Object.hasOwn(LINE_UNITS, word) ? { unit: { word, nanoseconds: LINE_UNITS[word] } } : {}) };
}

function unknownDirective(text: string, at: number): LinePatternProblem {
  const directive = /^%[A-Za-z]*/.exec(text.slice(at))![0];
  const end = at + Math.max(directive.length, Math.min(2, text.length - at));
  const written = text.slice(at, end);
  const message = written === "%" ? "a '%' ends the text" : `unknown directive '${written}'`;
  const suggestion = /^%(?:l|ll|z|h|hh)?[ud]$|^%(?:l|ll)?i$/.test(written)
    ? `write %u: the number is read as unsigned decimal digits whatever its type in the kernel's format${/[di]$/.test(written) ? " (a line with '-' before the digits does not match)" : ""}`
    : written === "%"
      ? "write %% for a '%'"
      : "the directives are %u (the number) and %% (a '%')";
  return { problem: "unknown directive", start: at, end, message, suggestion };
}
