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
  }
  for (const param of ctx.params.values()) {
    if (!ctx.usedParams.has(param.name)) ctx.report(warning("W0001", param.span, `parameter '${param.name}' is never used`));
  }
  return ctx.errorCount() > 0 ? undefined : checked;
}

function checkRule(ctx: CheckContext, rule: ast.Rule, index: number): CheckedRule | undefined {
  const before = ctx.errorCount();
  const from = ctx.diagnostics.length;
  const matched = matchCondition(ctx, rule.condition);
  const filters = checkFilters(ctx, rule, matched?.entry);
  const modifiers = checkModifiers(ctx, rule);
  const complete = matched?.ok === true && ctx.errorCount() === before;
  const caution = matched?.entry.blocksByDesign;
  if (complete && caution) checkCautions(ctx, matched.entry, matched.bound.names[caution.arg], rule.condition.head.span, rule.filters);
  const allows = checkAllowance(ctx, rule.allowance, from, complete);
  if (!complete || ctx.errorCount() > before) return undefined;
  const line = rule.span.start.line;
  return {
    index,
    line,
    label: modifiers.label ?? `${basename(ctx.options.fileName)}:${line}`,
    source: ctx.source.slice(rule.span.start.offset, rule.span.end.offset),
    span: rule.span,
    entry: matched.entry,
    args: matched.args,
    ...(matched.threshold ? { threshold: matched.threshold } : {}),
    ...(matched.reading ? { reading: matched.reading } : {}),
    filters,
    ...(modifiers.count ? { count: modifiers.count } : {}),
    ...(modifiers.after ? { after: modifiers.after } : {}),
    ...(allows.length ? { allows } : {}),
  };
}
