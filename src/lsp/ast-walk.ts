// Finding nodes of the compiler's AST by position and kind.
import type { Item, ParamDecl, RuleFile, Span } from "./compiler.js";
import { spanHolds } from "./positions.js";

interface AnyNode {
  kind: string;
  span: Span;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as AnyNode).kind === "string" && "span" in value;
}

/** Every node under `node` (itself included), depth first, in source order. */
export function* nodesOf(node: unknown): Generator<AnyNode> {
  if (Array.isArray(node)) {
    for (const child of node) yield* nodesOf(child);
  } else if (isNode(node)) {
    yield node;
    for (const [key, child] of Object.entries(node)) if (key !== "span") yield* nodesOf(child);
  }
}

/** The innermost node of `kind` whose span holds `offset`. */
export function nodeAt<T extends AnyNode>(root: unknown, offset: number, kind: T["kind"]): T | undefined {
  let found: AnyNode | undefined;
  for (const node of nodesOf(root)) if (node.kind === kind && spanHolds(node.span, offset)) found = node;
  return found as T | undefined;
}

/** The top-level statement holding `offset`. */
export function itemAt(file: RuleFile, offset: number): Item | undefined {
  return file.items.find((item) => spanHolds(item.span, offset));
}

export function paramDecl(file: RuleFile, name: string): ParamDecl | undefined {
  return file.items.find((i): i is ParamDecl => i.kind === "Param" && i.name.name === name);
}
