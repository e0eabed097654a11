// CST → AST: a chevrotain visitor that builds the typed AST and decodes literals.
// Malformed literals become `Invalid` nodes with a diagnostic, so that later
// passes skip them without a second error.
import type { CstNode, IToken } from "chevrotain";
import { error, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "./ast.js";
import type * as cst from "./cst.js";
import { parser } from "./parser.js";

const BaseVisitor = parser.getBaseCstVisitorConstructor();

export function tokenSpan(token: IToken): Span {
  return {
    start: { offset: token.startOffset, line: token.startLine ?? 1, column: token.startColumn ?? 1 },
    end: {
      offset: (token.endOffset ?? token.startOffset) + 1,
      line: token.endLine ?? token.startLine ?? 1,
      column: (token.endColumn ?? token.startColumn ?? 1) + 1,
    },
  };
}

function between(first: Span, last: Span): Span {
  return { start: first.start, end: last.end };
}

const UNIT_NANOSECONDS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Decodes "1.5s" to nanoseconds, or undefined when it is not a whole number of them. */
export function durationNanoseconds(text: string): bigint | undefined {
  const match = /^([0-9]+)(?:\.([0-9]+))?([a-z]+)$/.exec(text);
  if (!match) return undefined;
  const [, whole, fraction = "", unit] = match;
  const scale = UNIT_NANOSECONDS[unit];
  if (scale === undefined) return undefined;
  const denominator = 10n ** BigInt(fraction.length);
  const numerator = BigInt(whole + fraction) * scale;
  return numerator % denominator === 0n ? numerator / denominator : undefined;
}

/** Nanoseconds as a duration literal of the language, in the largest unit that divides them ("10us"). */
export function durationText(ns: bigint): string {
  const units = Object.entries(UNIT_NANOSECONDS).sort(([, a], [, b]) => (a > b ? -1 : 1));
  const [unit, scale] = units.find(([, scale]) => ns !== 0n && ns % scale === 0n) ?? ["ns", 1n];
  return `${ns / scale}${unit}`;
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t" };

class AstBuilder extends BaseVisitor {
  readonly diagnostics: Diagnostic[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  file(node: cst.FileCstChildren): ast.Item[] {
    return (node.item ?? []).map((item) => this.visit(item));
  }

  item(node: cst.ItemCstChildren): ast.Item {
    return this.visit((node.caseDecl ?? node.titleDecl ?? node.channelDecl ?? node.paramDecl ?? node.rule)!);
  }

  caseDecl(node: cst.CaseDeclCstChildren): ast.CaseDecl {
    const id = this.stringLit(node.StringLiteral[0]);
    return { kind: "Case", span: between(tokenSpan(node.Case[0]), id.span), id };
  }

  titleDecl(node: cst.TitleDeclCstChildren): ast.TitleDecl {
    const text = this.stringLit(node.StringLiteral[0]);
    return { kind: "Title", span: between(tokenSpan(node.Title[0]), text.span), text };
  }

  channelDecl(node: cst.ChannelDeclCstChildren): ast.ChannelDecl {
    const port: ast.Value = this.visit(node.port[0]);
    const value: ast.Value = this.visit(node.value[0]);
    return { kind: "Channel", span: between(tokenSpan(node.Channel[0]), value.span), port, value };
  }

  paramDecl(node: cst.ParamDeclCstChildren): ast.ParamDecl {
    const name = word(node.name[0]);
    const type = word(node.type[0]);
    const defaultValue: ast.Value | undefined = node.default ? this.visit(node.default[0]) : undefined;
    return {
      kind: "Param",
      span: between(tokenSpan(node.Param[0]), (defaultValue ?? type).span),
      name,
      type,
      ...(defaultValue ? { default: defaultValue } : {}),
    };
  }

  rule(node: cst.RuleCstChildren): ast.Rule {
    const condition: ast.Condition = this.visit(node.condition[0]);
    const filters: ast.Filter[] = node.filters ? this.visit(node.filters[0]) : [];
    const sequels: ast.Sequel[] = (node.sequel ?? []).map((s) => this.visit(s));
    const modifiers: ast.Modifier[] = (node.modifier ?? []).map((m) => this.visit(m));
    const allowance: ast.Allowance | undefined = node.allowance ? this.visit(node.allowance[0]) : undefined;
    const last = allowance?.span ?? modifiers.at(-1)?.span ?? sequels.at(-1)?.span ?? filters.at(-1)?.span ?? condition.span;
    return {
      kind: "Rule",
      span: between(tokenSpan(node.When[0]), last),
      condition,
      filters,
      sequels,
      modifiers,
      ...(allowance ? { allowance } : {}),
    };
  }

  sequel(node: cst.SequelCstChildren): ast.Sequel {
    const then = tokenSpan(node.Then[0]);
    const condition: ast.Condition | undefined = node.condition ? this.visit(node.condition[0]) : undefined;
    const filters: ast.Filter[] = node.filters ? this.visit(node.filters[0]) : [];
    const window: ast.Value | undefined = node.window ? this.visit(node.window[0]) : undefined;
    const misplaced: ast.Filter[] = node.misplaced ? this.visit(node.misplaced[0]) : [];
    const last = misplaced.at(-1)?.span ?? window?.span ?? filters.at(-1)?.span ?? condition?.span ?? then;
    return {
      kind: "Sequel",
      span: between(then, last),
      keyword: { span: then },
      ...(condition ? { condition } : {}),
      filters,
      ...(window ? { window } : {}),
      misplaced,
    };
  }

  condition(node: cst.ConditionCstChildren): ast.Condition {
    const head = word(node.head[0]);
    const groups: ast.Term[] = (node.wordGroup ?? []).map((g) => this.visit(g));
    const strings: ast.Term[] = (node.StringLiteral ?? []).map((s) => this.stringLit(s));
    const terms = [...groups, ...strings].sort((a, b) => a.span.start.offset - b.span.start.offset);
    const comparison: ast.Comparison | undefined = node.comparison ? this.visit(node.comparison[0]) : undefined;
    const last = comparison?.span ?? terms.at(-1)?.span ?? head.span;
    return { kind: "Condition", span: between(head.span, last), head, terms, ...(comparison ? { comparison } : {}) };
  }

  wordGroup(node: cst.WordGroupCstChildren): ast.WordGroup {
    const words: ast.Word[] = node.word.map((w) => this.visit(w));
    return { kind: "WordGroup", span: between(words[0].span, words[words.length - 1].span), words };
  }

  word(node: cst.WordCstChildren): ast.Word {
    return word((node.Identifier ?? node.Times)![0]);
  }

  comparison(node: cst.ComparisonCstChildren): ast.Comparison {
    const opToken = (node.Greater ?? node.GreaterEqual)![0];
    const op = opToken.image === ">=" ? ">=" : ">";
    if (node.Percent) {
      const token = node.Percent[0];
      const value: ast.IntLit = { kind: "Int", span: tokenSpan(token), value: BigInt(token.image.slice(0, -1)), text: token.image };
      const within: ast.Value = this.visit(node.window![0]);
      return { kind: "Comparison", span: between(tokenSpan(opToken), within.span), op, value, within };
    }
    const value: ast.Value = this.visit(node.value![0]);
    return { kind: "Comparison", span: between(tokenSpan(opToken), value.span), op, value };
  }

  filters(node: cst.FiltersCstChildren): ast.Filter[] {
    return node.filter.map((f) => this.visit(f));
  }

  filter(node: cst.FilterCstChildren): ast.Filter {
    const attribute = word(node.attribute[0]);
    const value: ast.Value = this.visit(node.value[0]);
    return { kind: "Filter", span: between(attribute.span, value.span), attribute, value };
  }

  modifier(node: cst.ModifierCstChildren): ast.Modifier {
    return this.visit((node.countModifier ?? node.afterModifier ?? node.pausesModifier ?? node.labelModifier)![0]);
  }

  countModifier(node: cst.CountModifierCstChildren): ast.CountModifier {
    const timesToken = (node.Integer ?? node.ParamRef)![0];
    const times = node.Integer ? this.integer(timesToken) : paramRef(timesToken);
    const window: ast.Value = this.visit(node.window[0]);
    return { kind: "Count", span: between(times.span, window.span), times, window };
  }

  afterModifier(node: cst.AfterModifierCstChildren): ast.AfterModifier {
    const delay: ast.Value = this.visit(node.value[0]);
    return { kind: "After", span: between(tokenSpan(node.After[0]), delay.span), delay };
  }

  pausesModifier(node: cst.PausesModifierCstChildren): ast.PausesModifier {
    return { kind: "Pauses", span: between(tokenSpan(node.Counting[0]), tokenSpan(node.Pauses[0])) };
  }

  labelModifier(node: cst.LabelModifierCstChildren): ast.LabelModifier {
    const label = this.stringLit(node.StringLiteral[0]);
    return { kind: "Label", span: between(tokenSpan(node.As[0]), label.span), label };
  }

  allowance(node: cst.AllowanceCstChildren): ast.Allowance {
    const codes = node.code.map(word);
    return { kind: "Allowance", span: between(tokenSpan(node.Allow[0]), codes[codes.length - 1].span), codes };
  }

  value(node: cst.ValueCstChildren): ast.Value {
    return node.ParamRef ? paramRef(node.ParamRef[0]) : this.visit(node.literal![0]);
  }

  literal(node: cst.LiteralCstChildren): ast.Value {
    if (node.Duration) return this.duration(node.Duration[0]);
    if (node.StringLiteral) return this.stringLit(node.StringLiteral[0]);
    return this.visit(node.number![0]);
  }

  number(node: cst.NumberCstChildren): ast.Value {
    if (node.Integer) return this.integer(node.Integer[0]);
    const token = node.MalformedNumber![0];
    const span = tokenSpan(token);
    const unit = /^[0-9.]+([A-Za-z_][A-Za-z0-9_]*)$/.exec(token.image)?.[1];
    this.diagnostics.push(
      error("E0004", span, `'${token.image}' is not a number or a duration`, {
        suggestion:
          unit !== undefined
            ? `a duration is a number and one of the units ns, us, ms, s, m, h, with no space: '${token.image.slice(0, -unit.length)}ms'`
            : "write a whole number, in decimal (1234) or hex (0x3ff), or a duration such as 1.5s",
      }),
    );
    return { kind: "Invalid", span, text: token.image };
  }

  private integer(token: IToken): ast.IntLit {
    return { kind: "Int", span: tokenSpan(token), value: BigInt(token.image), text: token.image };
  }

  private duration(token: IToken): ast.DurationLit | ast.InvalidLit {
    const span = tokenSpan(token);
    const nanoseconds = durationNanoseconds(token.image);
    if (nanoseconds === undefined) {
      this.diagnostics.push(error("E0005", span, `duration '${token.image}' is not a whole number of nanoseconds`));
      return { kind: "Invalid", span, text: token.image };
    }
    return { kind: "Duration", span, nanoseconds, text: token.image };
  }

  private stringLit(token: IToken): ast.StringLit {
    const span = tokenSpan(token);
    const body = token.image.endsWith('"') && token.image.length > 1 ? token.image.slice(1, -1) : token.image.slice(1);
    let value = "";
    for (let i = 0; i < body.length; i++) {
      const ch = body[i];
      if (ch !== "\\") {
        value += ch;
        continue;
      }
      const next = body[++i] ?? "";
      const decoded = ESCAPES[next];
      if (decoded === undefined) {
        const at = token.startOffset + 1 + i - 1;
        const escapeSpan: Span = {
          start: { offset: at, line: span.start.line, column: span.start.column + 1 + i - 1 },
          end: { offset: at + 2, line: span.start.line, column: span.start.column + 1 + i + 1 },
        };
        this.diagnostics.push(
          error("E0003", escapeSpan, `unknown escape '\\${next}' in a string`, {
            suggestion: 'the escapes are \\" \\\\ \\n \\t; write \\\\ for a backslash',
          }),
        );
      } else {
        value += decoded;
      }
    }
    return { kind: "String", span, value, text: token.image };
  }
}

function word(token: IToken): ast.Word {
  return { kind: "Word", span: tokenSpan(token), name: token.image };
}

function paramRef(token: IToken): ast.ParamRef {
  return { kind: "ParamRef", span: tokenSpan(token), name: token.image.slice(1) };
}

/** One builder, reused: chevrotain validates the visitor once. */
const builder = new AstBuilder();

/** Builds the AST of one statement (an `item` CST node). */
export function buildAst(item: CstNode): { item: ast.Item; diagnostics: Diagnostic[] } {
  builder.diagnostics.length = 0;
  const built: ast.Item = builder.visit(item);
  return { item: built, diagnostics: [...builder.diagnostics] };
}
