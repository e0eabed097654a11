// Semantic analysis: names, types, units, which filters each condition takes,
// parameters. Collects every error of a file; never prints.
import { basename } from "node:path";
import { error, warning, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import { durationNanoseconds } from "../syntax/build-ast.js";
import { ATTRIBUTE_TYPES, type Attribute, type ConditionArgs, type ConditionEntry, type PatternPart } from "../stdlib.js";
import { catalogue, tables } from "../../stdlib/index.js";
import { DEFAULT_CHANNEL, type CheckedFile, type CheckedFilter, type CheckedParam, type CheckedRule, type Operand } from "./checked.js";
import * as limits from "./limits.js";
import { didYouMean } from "./suggest.js";

export interface CheckOptions {
  /** The file name used in default labels (`rule.qt:7`). */
  fileName: string;
  /** `--define NAME=VALUE`, as given on the command line. */
  defines?: ReadonlyMap<string, string>;
}

export interface CheckResult {
  checked?: CheckedFile;
  diagnostics: Diagnostic[];
}

const PARAM_TYPES = ["int", "string", "duration"] as const;

/** Words SystemTap reserves: a parameter becomes a global of the same name (`stap -G NAME=…`). */
const SYSTEMTAP_RESERVED = new Set([
  "break", "catch", "continue", "delete", "else", "for", "foreach", "function", "global", "if", "in",
  "limit", "long", "next", "private", "probe", "return", "string", "try", "while", "stat",
]);

const TABLE_NOUN: Record<string, string> = { syscall: "system call", errno: "errno name", signal: "signal", event: "event" };
const UNKNOWN_NAME_CODE: Record<string, string> = { syscall: "E0142", errno: "E0143", signal: "E0144", event: "E0145" };

type ValueType = "int" | "string" | "duration";

function valueTypeOf(value: ast.Value, params: Map<string, CheckedParam>): ValueType | undefined {
  switch (value.kind) {
    case "Int":
      return "int";
    case "Duration":
      return "duration";
    case "String":
      return "string";
    case "ParamRef":
      return params.get(value.name)?.type;
    case "Invalid":
      return undefined;
  }
}

function describeType(type: ValueType): string {
  return type === "int" ? "a number" : type === "duration" ? "a duration" : "a string";
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Parses a `--define` value for a parameter of `type`. */
export function parseDefine(type: ValueType, text: string): bigint | string | undefined {
  if (type === "string") return text;
  if (type === "int") return /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text) ? BigInt(text) : undefined;
  return durationNanoseconds(text);
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  private readonly params = new Map<string, CheckedParam>();
  private readonly usedParams = new Set<string>();

  constructor(
    private readonly file: ast.RuleFile,
    private readonly source: string,
    private readonly options: CheckOptions,
  ) {}

  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  check(): CheckedFile | undefined {
    const checked: CheckedFile = { channel: { ...DEFAULT_CHANNEL }, params: [], rules: [] };
    const seen = new Map<string, Span>();
    const once = (item: { kind: string; span: Span }, what: string): boolean => {
      const first = seen.get(item.kind);
      if (first) {
        this.report(
          error("E0101", item.span, `'${what}' is given twice`, { notes: [`first given on line ${first.start.line}`] }),
        );
        return false;
      }
      seen.set(item.kind, item.span);
      return true;
    };

    // Parameters first: rules may use them before they are declared.
    for (const item of this.file.items) if (item.kind === "Param") this.declareParam(item);
    checked.params = [...this.params.values()];

    let ruleIndex = 0;
    for (const item of this.file.items) {
      switch (item.kind) {
        case "Case":
          if (once(item, "case") && this.checkText(item.id, "case id")) checked.caseId = item.id.value;
          break;
        case "Title":
          if (once(item, "title") && this.checkText(item.text, "title")) checked.title = item.text.value;
          break;
        case "Channel":
          if (once(item, "channel")) checked.channel = this.checkChannel(item) ?? checked.channel;
          break;
        case "Param":
          break;
        case "Rule": {
          const rule = this.checkRule(item, ruleIndex++);
          if (rule) checked.rules.push(rule);
          break;
        }
      }
    }

    const ruleCount = this.file.items.filter((i) => i.kind === "Rule").length;
    if (ruleCount === 0) {
      this.report(
        error("E0130", this.file.span.start.offset === this.file.span.end.offset ? this.file.span : firstLine(this.file.span), "the file has no rule", {
          suggestion: "add one: when syscall latency > 200ms on pid 1234",
        }),
      );
    } else if (ruleCount > limits.MAX_RULES) {
      const extra = this.file.items.filter((i) => i.kind === "Rule")[limits.MAX_RULES];
      this.report(
        error("E0131", extra.span, `a rule file has at most ${limits.MAX_RULES} rules; this one has ${ruleCount}`, {
          suggestion: "split it: the guest scripts of several files can run side by side",
        }),
      );
    }
    for (const param of this.params.values()) {
      if (!this.usedParams.has(param.name)) {
        this.report(warning("W0001", param.span, `parameter '${param.name}' is never used`));
      }
    }
    if (this.diagnostics.some((d) => d.severity === "error")) return undefined;
    return checked;
  }

  private declareParam(decl: ast.ParamDecl): void {
    const name = decl.name.name;
    if (this.params.has(name)) {
      this.report(
        error("E0110", decl.name.span, `parameter '${name}' is declared twice`, {
          notes: [`first declared on line ${this.params.get(name)!.span.start.line}`],
        }),
      );
      return;
    }
    if (SYSTEMTAP_RESERVED.has(name) || name.startsWith("qt_")) {
      this.report(
        error("E0113", decl.name.span, `'${name}' cannot name a parameter: it becomes a SystemTap global, and ${name.startsWith("qt_") ? "names starting with 'qt_' are qtrip's own" : "SystemTap reserves that word"}`, {
          suggestion: `rename it, e.g. '${name}_value'`,
        }),
      );
      return;
    }
    const type = decl.type.name;
    if (!(PARAM_TYPES as readonly string[]).includes(type)) {
      const hint = didYouMean(type, PARAM_TYPES);
      this.report(
        error("E0111", decl.type.span, `unknown parameter type '${type}'; the types are int, string and duration`, hint ? { suggestion: hint } : {}),
      );
      return;
    }
    const param: CheckedParam = { name, type: type as ValueType, source: "runtime", span: decl.span };
    const defined = this.options.defines?.get(name);
    if (defined !== undefined) {
      const value = parseDefine(param.type, defined);
      if (value === undefined) {
        this.report(
          error("E0115", decl.name.span, `--define ${name}=${defined}: '${defined}' is not ${describeType(param.type)}`, {
            suggestion: param.type === "duration" ? `give a duration such as ${name}=200ms` : `give ${describeType(param.type)}`,
          }),
        );
      } else if (this.inRange(param.type, value, decl.name.span, `--define ${name}`)) {
        param.source = "define";
        param.value = value;
      }
    } else if (decl.default) {
      const type = valueTypeOf(decl.default, this.params);
      if (decl.default.kind === "ParamRef") {
        this.report(error("E0112", decl.default.span, "a parameter's default must be a literal, not another parameter"));
      } else if (type !== undefined && type !== param.type) {
        this.report(
          error("E0112", decl.default.span, `the default of '${name}' must be ${describeType(param.type)}, not ${describeType(type)}`),
        );
      } else if (type !== undefined) {
        const value = literalValue(decl.default);
        if (this.inRange(param.type, value, decl.default.span, "the default") && (param.type !== "string" || this.checkText(decl.default as ast.StringLit, "parameter default"))) {
          param.source = "default";
          param.value = value;
        }
      }
    }
    this.params.set(name, param);
  }

  private inRange(type: ValueType, value: bigint | string, span: Span, what: string): boolean {
    if (type === "duration" && typeof value === "bigint" && value > limits.MAX_NANOSECONDS) {
      this.report(error("E0170", span, `${what} is too long a duration: at most about 292 years`));
      return false;
    }
    if (type === "int" && typeof value === "bigint" && value > limits.MAX_NANOSECONDS) {
      this.report(error("E0171", span, `${what} is too large a number: at most ${limits.MAX_NANOSECONDS}`));
      return false;
    }
    return true;
  }

  /** Strings copied into headers and logs: printable text of bounded length. */
  private checkText(text: ast.StringLit, what: string, maxBytes = limits.MAX_TEXT_BYTES, allowTab = false): boolean {
    const control = [...text.value].find((ch) => {
      const code = ch.codePointAt(0)!;
      return (code < 0x20 && !(allowTab && ch === "\t")) || code === 0x7f || (code >= 0x80 && code < 0xa0);
    });
    if (control !== undefined) {
      const shown = JSON.stringify(control).slice(1, -1);
      this.report(error("E0102", text.span, `the ${what} contains a control character ('${shown}')`, { suggestion: "use printable text on one line" }));
      return false;
    }
    if (utf8Bytes(text.value) > maxBytes) {
      this.report(error("E0103", text.span, `the ${what} is ${utf8Bytes(text.value)} bytes long; at most ${maxBytes}`));
      return false;
    }
    return true;
  }

  private checkChannel(decl: ast.ChannelDecl) {
    const port = this.channelNumber(decl.port, 0xffffn, "port");
    const value = this.channelNumber(decl.value, 0xffn, "value");
    if (port === undefined || value === undefined) return undefined;
    if (port >= 0x3f8 && port <= 0x3fe) {
      this.report(
        error("E0105", decl.port.span, `port 0x${port.toString(16)} is a register of the guest's COM1 UART: writing it would disturb the serial port`, {
          suggestion: "use the scratch register, 0x3ff (the default)",
        }),
      );
      return undefined;
    }
    return { port, value };
  }

  private channelNumber(value: ast.Value, max: bigint, what: string): number | undefined {
    if (value.kind !== "Int") return undefined; // Invalid: already reported; the grammar takes only numbers here.
    if (value.value > max) {
      this.report(error("E0104", value.span, `channel ${what} ${value.text} is out of range: 0 to 0x${max.toString(16)}`));
      return undefined;
    }
    return Number(value.value);
  }

  private checkRule(rule: ast.Rule, index: number): CheckedRule | undefined {
    const before = this.diagnostics.filter((d) => d.severity === "error").length;
    const matched = this.matchCondition(rule.condition);
    const filters = this.checkFilters(rule, matched?.entry);
    const modifiers = this.checkModifiers(rule);
    if (!matched?.ok || this.diagnostics.filter((d) => d.severity === "error").length > before) return undefined;
    const { entry, args } = matched;
    const line = rule.span.start.line;
    return {
      index,
      line,
      label: modifiers.label ?? `${basename(this.options.fileName)}:${line}`,
      source: this.source.slice(rule.span.start.offset, rule.span.end.offset),
      span: rule.span,
      entry,
      args,
      ...(matched.threshold ? { threshold: matched.threshold } : {}),
      filters,
      ...(modifiers.count ? { count: modifiers.count } : {}),
      ...(modifiers.after ? { after: modifiers.after } : {}),
    };
  }

  // --- conditions -------------------------------------------------------

  private matchCondition(condition: ast.Condition) {
    const head = condition.head.name;
    const candidates = catalogue.filter((e) => e.head === head);
    if (candidates.length === 0) {
      const hint = didYouMean(head, new Set(catalogue.map((e) => e.head)));
      this.report(
        error("E0140", condition.head.span, `unknown condition '${head}'`, {
          ...(hint ? { suggestion: hint } : {}),
          notes: [`the conditions are: ${[...new Set(catalogue.map((e) => e.head))].join(", ")}`],
        }),
      );
      return undefined;
    }
    let best: { entry: ConditionEntry; failure: Diagnostic; progress: number } | undefined;
    for (const entry of candidates) {
      const attempt = matchPattern(entry.pattern, condition);
      if ("args" in attempt) {
        return this.finishCondition(condition, entry, attempt.args);
      }
      if (!best || attempt.progress > best.progress) best = { entry, failure: attempt.failure, progress: attempt.progress };
    }
    this.report(best!.failure);
    return undefined;
  }

  private finishCondition(
    condition: ast.Condition,
    entry: ConditionEntry,
    bound: { names: Record<string, ast.Word[]>; strings: Record<string, ast.StringLit> },
  ) {
    const args: ConditionArgs = { names: {}, strings: {} };
    let ok = true;
    for (const part of entry.pattern) {
      if ("names" in part) {
        const words = bound.names[part.arg] ?? [];
        const table = tables[part.names];
        const resolved = [];
        const seen = new Map<string, number>();
        for (const word of words) {
          const number = Object.hasOwn(table, word.name) ? table[word.name] : undefined;
          if (number === undefined) {
            const hint = didYouMean(word.name, Object.keys(table));
            this.report(
              error(UNKNOWN_NAME_CODE[part.names], word.span, `unknown ${TABLE_NOUN[part.names]} '${word.name}'`, {
                ...(hint ? { suggestion: hint } : {}),
                ...(part.names === "event" ? { notes: [`the events are: ${Object.keys(table).join(", ")}`] } : {}),
                ...(part.names === "syscall" ? { notes: ["names are those of the x86_64 system call table"] } : {}),
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
          this.report(warning("W0003", repeat.span, `'${name}' is listed ${count === 2 ? "twice" : `${count} times`}`));
        }
        args.names[part.arg] = resolved;
      } else if ("string" in part) {
        const literal = bound.strings[part.string];
        if (part.symbol) {
          if (!/^([A-Za-z0-9_-]{1,55}:)?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(literal.value) || utf8Bytes(literal.value) > limits.MAX_SYMBOL_BYTES) {
            this.report(
              error("E0148", literal.span, `'${literal.value.slice(0, 60)}' is not a kernel function name`, {
                suggestion: "write NAME or MODULE:NAME as /proc/kallsyms lists it: letters, digits, '_' (and '.' for suffixes like .isra.0)",
              }),
            );
            ok = false;
          }
        } else if (!this.checkText(literal, "text", limits.MAX_TEXT_BYTES, true)) {
          ok = false;
        }
        args.strings[part.string] = literal.value;
      }
    }

    let threshold: CheckedRule["threshold"];
    const comparison = condition.comparison;
    if (entry.threshold && !comparison) {
      this.report(
        error("E0146", condition.span, `'${entry.head}' needs a threshold: ${entry.syntax}`, {
          suggestion: `add one, e.g. '${condition.head.name} ... > 200ms'`,
        }),
      );
      ok = false;
    } else if (!entry.threshold && comparison) {
      this.report(error("E0146", comparison.span, `'${entry.syntax}' takes no threshold`, { suggestion: "remove it" }));
      ok = false;
    } else if (comparison) {
      const nanoseconds = this.durationOperand(comparison.value, "a threshold");
      if (nanoseconds) threshold = { op: comparison.op, nanoseconds };
      else ok = false;
    }
    return { ok, entry, args, threshold };
  }

  // --- filters ----------------------------------------------------------

  private checkFilters(rule: ast.Rule, entry: ConditionEntry | undefined): CheckedFilter[] {
    const filters: CheckedFilter[] = [];
    const seen = new Map<string, ast.Filter>();
    for (const filter of rule.filters) {
      const name = filter.attribute.name;
      if (!Object.hasOwn(ATTRIBUTE_TYPES, name)) {
        const hint = didYouMean(name, Object.keys(ATTRIBUTE_TYPES));
        this.report(
          error("E0150", filter.attribute.span, `unknown filter '${name}'`, {
            ...(hint ? { suggestion: hint } : {}),
            notes: [`the filters are: ${Object.keys(ATTRIBUTE_TYPES).join(", ")}`],
          }),
        );
        continue;
      }
      const attribute = name as Attribute;
      if (entry && !entry.attributes.includes(attribute)) {
        this.report(
          error("E0151", filter.attribute.span, `'${entry.head}' conditions have no '${attribute}' to filter on`, {
            notes: [`'${entry.syntax}' takes: ${entry.attributes.join(", ")}`],
          }),
        );
        continue;
      }
      if (seen.has(attribute)) {
        this.report(
          error("E0153", filter.span, `'${attribute}' is filtered twice in one rule`, {
            notes: [`first on line ${seen.get(attribute)!.span.start.line}; a task has one ${attribute}, so both cannot hold`],
            suggestion: "write one rule for each value",
          }),
        );
        continue;
      }
      seen.set(attribute, filter);
      const type = ATTRIBUTE_TYPES[attribute];
      const value = this.operand(filter.value, type, `'${attribute}'`);
      if (!value) continue;
      if (value.kind === "const" && typeof value.value === "bigint" && value.value > limits.MAX_ATTRIBUTE_VALUE[attribute]) {
        this.report(error("E0155", filter.value.span, `${attribute} ${value.value} is out of range: at most ${limits.MAX_ATTRIBUTE_VALUE[attribute]}`));
        continue;
      }
      if (value.kind === "const" && typeof value.value === "string") {
        const max = attribute === "comm" ? limits.MAX_COMM_BYTES : limits.MAX_TEXT_BYTES;
        if (filter.value.kind === "String" && !this.checkText(filter.value, attribute, max)) continue;
        if (filter.value.kind !== "String" && utf8Bytes(value.value) > max) {
          this.report(error("E0154", filter.value.span, `${attribute} '${value.value}' is ${utf8Bytes(value.value)} bytes; a ${attribute} has at most ${max}`));
          continue;
        }
        if (value.value === "") {
          this.report(error("E0156", filter.value.span, `an empty ${attribute} matches nothing`));
          continue;
        }
      }
      filters.push({ attribute, value, span: filter.span });
    }
    return filters;
  }

  // --- modifiers --------------------------------------------------------

  private checkModifiers(rule: ast.Rule) {
    const result: { count?: CheckedRule["count"]; after?: Operand<bigint>; label?: string } = {};
    const seen = new Map<string, ast.Modifier>();
    const names = { Count: "N times within D", After: "after", Label: "as" };
    for (const modifier of rule.modifiers) {
      const first = seen.get(modifier.kind);
      if (first) {
        this.report(
          error("E0160", modifier.span, `'${names[modifier.kind]}' is given twice in one rule`, {
            notes: [`first given on line ${first.span.start.line}`],
          }),
        );
        continue;
      }
      seen.set(modifier.kind, modifier);
      if (modifier.kind === "Count") {
        const times = this.operand(modifier.times, "int", "the count") as Operand<bigint> | undefined;
        const window = this.durationOperand(modifier.window, "the window");
        if (times?.kind === "const" && (times.value < 1n || times.value > limits.MAX_TIMES)) {
          this.report(error("E0161", modifier.times.span, `the count must be from 1 to ${limits.MAX_TIMES}, not ${times.value}`));
        } else if (window?.kind === "const" && window.value === 0n) {
          this.report(error("E0162", modifier.window.span, "the window must be longer than 0"));
        } else if (times && window) {
          result.count = { times, window };
        }
      } else if (modifier.kind === "After") {
        result.after = this.durationOperand(modifier.delay, "'after'");
      } else if (this.checkText(modifier.label, "label")) {
        result.label = modifier.label.value;
      }
    }
    return result;
  }

  // --- values -----------------------------------------------------------

  private durationOperand(value: ast.Value, what: string): Operand<bigint> | undefined {
    if (value.kind === "Int") {
      this.report(
        error("E0121", value.span, `${what} must be a duration, not a bare number`, {
          suggestion: `give its unit: '${value.text}ms' or '${value.text}s'`,
        }),
      );
      return undefined;
    }
    return this.operand(value, "duration", what) as Operand<bigint> | undefined;
  }

  private operand(value: ast.Value, type: ValueType, what: string): Operand<bigint> | Operand<string> | undefined {
    if (value.kind === "Invalid") return undefined;
    if (value.kind === "ParamRef") {
      const param = this.params.get(value.name);
      if (!param) {
        const hint = didYouMean(value.name, this.params.keys());
        this.report(
          error("E0120", value.span, `unknown parameter '$${value.name}'`, {
            suggestion: hint ? hint.replace("'", "'$") : `declare it: param ${value.name}: ${type}`,
          }),
        );
        return undefined;
      }
      this.usedParams.add(param.name);
      if (param.type !== type) {
        this.report(
          error("E0121", value.span, `${what} must be ${describeType(type)}, but '$${param.name}' is ${describeType(param.type)}`, {
            notes: [`'${param.name}' is declared on line ${param.span.start.line}`],
          }),
        );
        return undefined;
      }
      if (param.value !== undefined) return { kind: "const", value: param.value } as Operand<bigint> | Operand<string>;
      return { kind: "param", name: param.name, type: param.type };
    }
    const actual = valueTypeOf(value, this.params)!;
    if (actual !== type) {
      this.report(error("E0121", value.span, `${what} must be ${describeType(type)}, not ${describeType(actual)}`));
      return undefined;
    }
    const literal = literalValue(value);
    if (!this.inRange(type, literal, value.span, what)) return undefined;
    return { kind: "const", value: literal } as Operand<bigint> | Operand<string>;
  }
}

function literalValue(value: ast.IntLit | ast.DurationLit | ast.StringLit | ast.Value): bigint | string {
  switch (value.kind) {
    case "Int":
      return value.value;
    case "Duration":
      return value.nanoseconds;
    case "String":
      return value.value;
    default:
      throw new Error(`no literal value for ${value.kind}`);
  }
}

function firstLine(span: Span): Span {
  return { start: span.start, end: span.start };
}

type MatchResult =
  | { args: { names: Record<string, ast.Word[]>; strings: Record<string, ast.StringLit> } }
  | { failure: Diagnostic; progress: number };

/**
 * Matches a condition's terms against an entry's pattern. Optional name lists
 * are taken only when the group is not one of the pattern's literal words, so
 * `syscall latency` never reads `latency` as a system call.
 */
function matchPattern(pattern: PatternPart[], condition: ast.Condition): MatchResult {
  const terms = condition.terms;
  const literalWords = pattern.flatMap((p) => ("word" in p ? [p.word] : []));
  const names: Record<string, ast.Word[]> = {};
  const strings: Record<string, ast.StringLit> = {};
  let i = 0;
  const expected = (part: PatternPart): string =>
    "word" in part ? `'${part.word}'` : "names" in part ? `${part.single ? "a" : "a list of"} ${TABLE_NOUN[part.names]} name${part.single ? "" : "s"}` : `a string ("…")`;
  const endSpan = (): Span => {
    const last = terms[i - 1]?.span ?? condition.head.span;
    return { start: last.end, end: last.end };
  };

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
      return {
        failure: error("E0141", where, `expected '${part.word}' after '${condition.head.name}${k > 0 ? " …" : ""}', found ${found}`, {
          ...(hint ? { suggestion: hint } : {}),
          notes: [`the syntax is: ${syntaxOf(condition.head.name)}`],
        }),
        progress: k,
      };
    }
    if ("names" in part) {
      const takeable = isGroup && !(term.words.length === 1 && literalWords.includes(term.words[0].name));
      if (takeable) {
        if (part.single && term.words.length > 1) {
          return {
            failure: error("E0141", term.words[1].span, `'${condition.head.name}' takes one ${TABLE_NOUN[part.names]}; write one rule for each`),
            progress: k,
          };
        }
        // A lone word that is a typo of the next literal word is that word misspelled, not a name.
        const next = pattern[k + 1];
        const nextWord = next && "word" in next ? next.word : undefined;
        if (part.optional && nextWord && term.words.length === 1 && !Object.hasOwn(tables[part.names], term.words[0].name)) {
          const hint = didYouMean(term.words[0].name, [nextWord]);
          if (hint && terms[i + 1]?.kind !== "WordGroup") {
            return {
              failure: error("E0141", term.span, `expected '${nextWord}', found '${term.words[0].name}'`, {
                suggestion: hint,
                notes: [`the syntax is: ${syntaxOf(condition.head.name)}`],
              }),
              progress: k + 1,
            };
          }
        }
        names[part.arg] = term.words;
        i++;
        continue;
      }
      if (part.optional) continue;
      return {
        failure: error("E0141", term?.span ?? endSpan(), `expected ${expected(part)} after '${condition.head.name}'`, {
          notes: [`the syntax is: ${syntaxOf(condition.head.name)}`],
        }),
        progress: k,
      };
    }
    if (term?.kind === "String") {
      strings[part.string] = term;
      i++;
      continue;
    }
    return {
      failure: error("E0141", term?.span ?? endSpan(), `expected ${expected(part)} after '${condition.head.name}'`, {
        notes: [`the syntax is: ${syntaxOf(condition.head.name)}`],
      }),
      progress: k,
    };
  }
  if (i < terms.length) {
    return {
      failure: error("E0141", terms[i].span, `unexpected ${terms[i].kind === "String" ? "string" : `'${(terms[i] as ast.WordGroup).words.map((w) => w.name).join(", ")}'`} in '${condition.head.name}' condition`, {
        notes: [`the syntax is: ${syntaxOf(condition.head.name)}`],
      }),
      progress: pattern.length,
    };
  }
  return { args: { names, strings } };
}

function syntaxOf(head: string): string {
  return catalogue
    .filter((e) => e.head === head)
    .map((e) => e.syntax)
    .join("  |  ");
}

export function check(file: ast.RuleFile, source: string, options: CheckOptions): CheckResult {
  const checker = new Checker(file, source, options);
  const checked = checker.check();
  checker.diagnostics.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return { ...(checked ? { checked } : {}), diagnostics: checker.diagnostics };
}
