// Conditions: which spec a rule's condition is, its names resolved through the
// name tables, its strings checked, and its threshold.
import { error, warning, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type * as ast from "../syntax/ast.js";
import { durationText } from "../syntax/build-ast.js";
import { specs, NAME_TABLES, type ConditionArgs, type ConditionSpec } from "../../stdlib/index.js";
import type { CheckedRule } from "./checked.js";
import type { CheckContext } from "./context.js";
import * as limits from "./limits.js";
import { matchPattern, type Bound } from "./pattern.js";
import { checkReading } from "./readings.js";
import { checkShare, refuseShare } from "./shares.js";
import { checkText, durationOperand, utf8Bytes } from "./values.js";

export interface MatchedCondition {
  ok: boolean;
  entry: ConditionSpec;
  args: ConditionArgs;
  threshold?: CheckedRule["threshold"];
  reading?: CheckedRule["reading"];
  /** The words and strings as written, for diagnostics about them. */
  bound: Bound;
}

const SYMBOL = /^([A-Za-z0-9_-]{1,55}:)?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

export function matchCondition(ctx: CheckContext, condition: ast.Condition): MatchedCondition | undefined {
  const head = condition.head.name;
  const heads = new Set(specs.map((e) => e.head));
  const candidates = specs.filter((e) => e.head === head);
  if (candidates.length === 0) {
    const hint = didYouMean(head, heads);
    ctx.report(
      error("E0140", condition.head.span, `unknown condition '${head}'`, {
        ...(hint ? { suggestion: hint } : {}),
        notes: [`the conditions are: ${[...heads].join(", ")}`],
      }),
    );
    return undefined;
  }
  let best: { failure: Diagnostic; progress: number } | undefined;
  // `message "TEXT"` and `message "TEXT %u" > N` have the same words: the comparison tells them apart.
  const compares = (e: ConditionSpec) => e.threshold || e.reads !== undefined || e.share !== undefined;
  const ordered = [...candidates.filter((e) => compares(e) === !!condition.comparison), ...candidates.filter((e) => compares(e) !== !!condition.comparison)];
  for (const entry of ordered) {
    const attempt = matchPattern(entry.pattern, condition);
    if ("args" in attempt) {
      if (!condition.comparison) warnUncompared(ctx, candidates, attempt.args);
      return finishCondition(ctx, condition, entry, attempt.args);
    }
    if (!best || attempt.progress > best.progress) best = attempt;
  }
  ctx.report(best!.failure);
  return undefined;
}

/** `message "took %u ns"` without a comparison searches for "%u" as written: almost surely a comparison left out. */
function warnUncompared(ctx: CheckContext, candidates: ConditionSpec[], bound: Bound): void {
  const reads = candidates.find((e) => e.reads)?.reads;
  const text = reads && bound.strings[reads.pattern];
  if (!text || !text.value.includes("%u")) return;
  ctx.report(
    warning("W0009", text.span, "the text has %u but the rule compares nothing: it is searched for as written, '%u' and all", {
      suggestion: "compare the number, e.g. '> 1000' after the text; or, if the line really holds '%u', allow W0009",
    }),
  );
}

function resolveNames(ctx: CheckContext, table: keyof typeof NAME_TABLES, words: ast.Word[]): ConditionArgs["names"][string] | undefined {
  const info = NAME_TABLES[table];
  const resolved: ConditionArgs["names"][string] = [];
  const seen = new Map<string, number>();
  let ok = true;
  for (const word of words) {
    const number = Object.hasOwn(info.names, word.name) ? info.names[word.name] : undefined;
    if (number === undefined) {
      const hint = didYouMean(word.name, Object.keys(info.names));
      ctx.report(
        error(info.unknownCode, word.span, `unknown ${info.noun} '${word.name}'`, {
          ...(hint ? { suggestion: hint } : {}),
          ...(info.note ? { notes: [info.note] } : {}),
        }),
      );
      ok = false;
    } else if (seen.has(word.name)) {
      seen.set(word.name, seen.get(word.name)! + 1);
    } else {
      seen.set(word.name, 1);
      resolved.push({ name: word.name, number });
    }
  }
  for (const [name, count] of seen) {
    if (count < 2) continue;
    const repeat = words.filter((w) => w.name === name)[1];
    ctx.report(warning("W0003", repeat.span, `'${name}' is listed ${count === 2 ? "twice" : `${count} times`}`));
  }
  return ok ? resolved : undefined;
}

function checkString(ctx: CheckContext, literal: ast.StringLit, symbol: boolean): boolean {
  if (!symbol) return checkText(ctx, literal, "text", limits.MAX_TEXT_BYTES, true);
  if (SYMBOL.test(literal.value) && utf8Bytes(literal.value) <= limits.MAX_SYMBOL_BYTES) return true;
  ctx.report(
    error("E0148", literal.span, `'${literal.value.slice(0, 60)}' is not a kernel function name`, {
      suggestion: "write NAME or MODULE:NAME as /proc/kallsyms lists it: letters, digits, '_' (and '.' for suffixes like .isra.0)",
    }),
  );
  return false;
}

function finishCondition(ctx: CheckContext, condition: ast.Condition, entry: ConditionSpec, bound: Bound): MatchedCondition {
  const args: ConditionArgs = { names: {}, strings: {} };
  let ok = true;
  for (const part of entry.pattern) {
    if ("names" in part) {
      const resolved = resolveNames(ctx, part.names, bound.names[part.arg] ?? []);
      if (!resolved) ok = false;
      args.names[part.arg] = resolved ?? [];
    } else if ("string" in part) {
      const literal = bound.strings[part.string];
      if (!checkString(ctx, literal, part.symbol ?? false)) ok = false;
      args.strings[part.string] = literal.value;
    }
  }

  let threshold: CheckedRule["threshold"];
  const comparison = condition.comparison;
  // Chosen only with a comparison (matchCondition): `message "TEXT"` alone is the literal text.
  if (entry.share) {
    const window = checkShare(ctx, condition, entry, args);
    return { ok: ok && window !== undefined, entry, args, bound, ...(window ? { threshold: window } : {}) };
  }
  if (refuseShare(ctx, entry, comparison)) return { ok: false, entry, args, bound };
  if (entry.reads && comparison) {
    const reading = ok ? checkReading(ctx, bound.strings[entry.reads.pattern], comparison) : undefined;
    return { ok: ok && reading !== undefined, entry, args, bound, ...(reading ? { reading } : {}) };
  }
  if (entry.threshold && !comparison) {
    ctx.report(
      error("E0146", condition.span, `'${entry.head}' needs a threshold: ${entry.syntax}`, {
        suggestion: `add one, e.g. '${condition.head.name} ... > 200ms'`,
      }),
    );
    ok = false;
  } else if (!entry.threshold && comparison) {
    ctx.report(error("E0146", comparison.span, `'${entry.syntax}' takes no threshold`, { suggestion: "remove it" }));
    ok = false;
  } else if (comparison) {
    const nanoseconds = durationOperand(ctx, comparison.value, "a threshold");
    const least = entry.leastThreshold;
    if (nanoseconds && least && nanoseconds.kind === "const" && nanoseconds.value < least.nanoseconds) {
      ctx.report(
        error("E0147", comparison.value.span, `'${entry.syntax}' needs a threshold of at least ${durationText(least.nanoseconds)}`, {
          notes: [least.why],
          suggestion: `raise it to ${durationText(least.nanoseconds)} or more`,
        }),
      );
      ok = false;
    } else if (nanoseconds) threshold = { op: comparison.op, nanoseconds };
    else ok = false;
  }
  return { ok, entry, args, bound, ...(threshold ? { threshold } : {}) };
}
