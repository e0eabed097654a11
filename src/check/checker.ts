// Semantic analysis: the file's statements, each rule's condition, filters and
// modifiers, and its parameters. Collects every error of a file; never prints.
// Each topic is a file of its own beside this one.
import { basename } from "node:path";
import { error, warning, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import { checkAllowance } from "./allowances.js";
import { checkCautions } from "./cautions.js";
import { checkChannel } from "./channel.js";
import { DEFAULT_CHANNEL, type CheckedFile, type CheckedRule } from "./checked.js";
import { matchCondition } from "./conditions.js";
import { CheckContext, type CheckOptions } from "./context.js";
import { checkFilters } from "./filters.js";
import * as limits from "./limits.js";
import { checkModifiers } from "./modifiers.js";
import { checkSequel } from "./sequences.js";
import { declareParam } from "./params.js";
import { checkText } from "./values.js";

export type { CheckOptions } from "./context.js";

export interface CheckResult {
  checked?: CheckedFile;
  diagnostics: Diagnostic[];
}

export function check(file: ast.RuleFile, source: string, options: CheckOptions): CheckResult {
  const ctx = new CheckContext(source, options);
  const checked = checkFile(ctx, file);
  ctx.diagnostics.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return { ...(checked ? { checked } : {}), diagnostics: ctx.diagnostics };
}

function checkFile(ctx: CheckContext, file: ast.RuleFile): CheckedFile | undefined {
  const checked: CheckedFile = { channel: { ...DEFAULT_CHANNEL }, params: [], rules: [] };
  const seen = new Map<string, Span>();
  const once = (item: { kind: string; span: Span }, what: string): boolean => {
    const first = seen.get(item.kind);
    if (first) {
      ctx.report(error("E0101", item.span, `'${what}' is given twice`, { notes: [`first given on line ${first.start.line}`] }));
      return false;
    }
    seen.set(item.kind, item.span);
    return true;
  };

  // Parameters first: rules may use them before they are declared.
  for (const item of file.items) if (item.kind === "Param") declareParam(ctx, item);
  checked.params = [...ctx.params.values()];

  const rules = file.items.filter((i): i is ast.Rule => i.kind === "Rule");
  for (const item of file.items) {
    if (item.kind === "Case") {
      if (once(item, "case") && checkText(ctx, item.id, "case id")) checked.caseId = item.id.value;
    } else if (item.kind === "Title") {
      if (once(item, "title") && checkText(ctx, item.text, "title")) checked.title = item.text.value;
    } else if (item.kind === "Channel") {
      if (once(item, "channel")) checked.channel = checkChannel(ctx, item) ?? checked.channel;
    } else if (item.kind === "Rule") {
      const rule = checkRule(ctx, item, rules.indexOf(item));
      if (rule) checked.rules.push(rule);
    }
  }

  if (rules.length === 0) {
    const span = file.span.start.offset === file.span.end.offset ? file.span : { start: file.span.start, end: file.span.start };
    ctx.report(error("E0130", span, "the file has no rule", { suggestion: "add one: when syscall latency > 200ms on pid 1234" }));
  } else if (rules.length > limits.MAX_RULES) {
    ctx.report(
      error("E0131", rules[limits.MAX_RULES].span, `a rule file has at most ${limits.MAX_RULES} rules; this one has ${rules.length}`, {
        suggestion: "split it: the guest scripts of several files can run side by side",
      }),
    );
  } else {
    // A sequence watches two conditions, each a part with its own bit.
    const sequences = rules.filter((r) => r.sequels.length > 0);
    if (rules.length + sequences.length > limits.MAX_RULES) {
      ctx.report(
        error("E0131", sequences[limits.MAX_RULES - rules.length].span, `a rule file watches at most ${limits.MAX_RULES} conditions; with its ${sequences.length} sequences (two each) this one watches ${rules.length + sequences.length}`, {
          suggestion: "split it: the guest scripts of several files can run side by side",
        }),
      );
    }
  }
  numberParts(checked.rules);
  for (const param of ctx.params.values()) {
    if (!ctx.usedParams.has(param.name)) ctx.report(warning("W0001", param.span, `parameter '${param.name}' is never used`));
  }
  return ctx.errorCount() > 0 ? undefined : checked;
}

/** One condition and the filters written after it: a rule's, or each of a sequence's two. */
function checkPart(ctx: CheckContext, condition: ast.Condition, written: ast.Filter[]) {
  const matched = matchCondition(ctx, condition);
  const filters = checkFilters(ctx, written, matched?.entry);
  return { matched, filters, condition, written };
}

type Part = ReturnType<typeof checkPart>;

function cautions(ctx: CheckContext, { matched, condition, written }: Part): void {
  const caution = matched?.entry.blocksByDesign;
  if (matched && caution) checkCautions(ctx, matched.entry, matched.bound.names[caution.arg], condition.head.span, written);
}

function checkRule(ctx: CheckContext, rule: ast.Rule, index: number): CheckedRule | undefined {
  const before = ctx.errorCount();
  const from = ctx.diagnostics.length;
  const first = checkPart(ctx, rule.condition, rule.filters);
  const shape = checkSequel(ctx, rule);
  const second = shape?.second ? checkPart(ctx, shape.second.condition, shape.second.filters) : undefined;
  // The part that trips: B in a sequence, else the rule's one condition.
  const trips = shape ? second : first;
  const modifiers = checkModifiers(ctx, rule, trips?.matched?.entry);
  const complete = first.matched?.ok === true && (!shape || (shape.ok && second?.matched?.ok === true)) && ctx.errorCount() === before;
  if (complete) for (const part of second ? [first, second] : [first]) cautions(ctx, part);
  const allows = checkAllowance(ctx, rule.allowance, from, complete);
  if (!complete || !trips?.matched || ctx.errorCount() > before) return undefined;
  const line = rule.span.start.line;
  const label = modifiers.label ?? `${basename(ctx.options.fileName)}:${line}`;
  const part = ({ matched, filters }: Part, span: Span) => ({
    index,
    line,
    label,
    source: ctx.source.slice(span.start.offset, span.end.offset),
    span,
    entry: matched!.entry,
    args: matched!.args,
    ...(matched!.threshold ? { threshold: matched!.threshold } : {}),
    ...(matched!.reading ? { reading: matched!.reading } : {}),
    filters,
  });
  const firstSpan = { start: rule.condition.span.start, end: (rule.filters.at(-1) ?? rule.condition).span.end };
  return {
    ...part(trips, rule.span),
    ...(modifiers.count ? { count: modifiers.count } : {}),
    ...(modifiers.after ? { after: modifiers.after } : {}),
    ...(modifiers.countsPauses ? { countsPauses: true as const } : {}),
    ...(allows.length ? { allows } : {}),
    // Its index is set once every rule has one (numberParts).
    ...(shape ? { sequence: { first: part(first, firstSpan), within: shape.within! } } : {}),
  };
}

/** A sequence's first condition is a part of its own, numbered after the file's rules (checked.ts: ruleParts). */
function numberParts(rules: CheckedRule[]): void {
  let next = rules.length;
  for (const rule of rules) if (rule.sequence) rule.sequence.first.index = next++;
}
