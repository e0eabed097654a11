// Probe handlers: everything that runs at one probe point, from every rule and
// table that needs it, as one handler — SystemTap runs each handler's body
// once per hit, so rules sharing a probe point share its cost.
import type { CheckedRule, Operand } from "../../check/checked.js";
import type { Attribute } from "../../../stdlib/index.js";
import { commentText, hex, stapInt, stapString } from "./syntax.js";

interface Handler {
  comments: string[];
  preludes: Set<string>;
  body: string[];
}

export class Handlers {
  private readonly byProbe = new Map<string, Handler>();

  private at(probe: string): Handler {
    let handler = this.byProbe.get(probe);
    if (!handler) {
      handler = { comments: [], preludes: new Set(), body: [] };
      this.byProbe.set(probe, handler);
    }
    return handler;
  }

  /** A comment above the handler, once however many rules add it. */
  comment(probe: string, text: string): void {
    const h = this.at(probe);
    if (!h.comments.includes(text)) h.comments.push(text);
  }

  /** A statement run once at the top of the handler, however many rules ask for it. */
  prelude(probe: string, line: string): void {
    this.at(probe).preludes.add(line);
  }

  add(probe: string, lines: string[]): void {
    this.at(probe).body.push(...lines);
  }

  emit(): string[] {
    return [...this.byProbe].flatMap(([probe, h]) => [
      "",
      ...h.comments.map((c) => `# ${c}`),
      `probe ${probe} {`,
      ...[...h.preludes].map((p) => `\t${p}`),
      ...h.body,
      "}",
    ]);
  }
}

export function bit(rule: CheckedRule): string {
  return hex(2 ** rule.index);
}

export function operand(value: Operand<bigint> | Operand<string>): string {
  if (value.kind === "param") return value.name;
  return typeof value.value === "string" ? stapString(value.value) : stapInt(value.value);
}

/** The rule as a comment: a reader on the customer's machine sees which rule each test serves. */
export function ruleComment(rule: CheckedRule, indent: string): string[] {
  const lines = rule.source.split("\n").map((l) => commentText(l).trimEnd());
  return [`${indent}# ${commentText(rule.label)}: ${lines[0]}`, ...lines.slice(1).map((l) => `${indent}#   ${l.trim()}`)];
}

/**
 * Cheap tests first: a task's ids are a load; strings (a device's name, the comm) are copied and
 * compared, so they come last, after the condition's own tests (a load, at a per-packet event).
 */
const ATTRIBUTE_ORDER: Attribute[] = ["pid", "tid", "cpu", "uid", "local_port", "remote_port", "context"];

/** A rule's filters and the condition's tests, as one SystemTap boolean expression (undefined: always). */
export function ruleTest(rule: CheckedRule, reads: Partial<Record<string, string>>, tests: string[]): string | undefined {
  const byAttribute = new Map(rule.filters.map((f) => [f.attribute, f]));
  const filter = (attribute: Attribute): string[] => {
    const f = byAttribute.get(attribute);
    if (!f) return [];
    const read = reads[attribute];
    if (read === undefined) throw new Error(`no way to read '${attribute}' here`);
    return [`${read} == ${operand(f.value)}`];
  };
  const all = [...ATTRIBUTE_ORDER.flatMap(filter), ...tests, ...filter("device"), ...filter("comm")];
  return all.length ? all.join(" && ") : undefined;
}

/**
 * A rule's filters on the thread's own ids (pid, tid: a thread keeps them until it ends or
 * execs), as one SystemTap boolean expression; undefined when it has neither.
 */
export function threadIdTest(rule: CheckedRule, reads: Partial<Record<string, string>>): string | undefined {
  const ids = rule.filters.filter((f) => f.attribute === "pid" || f.attribute === "tid");
  return ids.length ? ids.map((f) => `${reads[f.attribute]} == ${operand(f.value)}`).join(" && ") : undefined;
}
