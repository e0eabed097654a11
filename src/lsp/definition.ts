// Go to definition: from a `$param` to its `param` declaration.
import type { Location } from "vscode-languageserver";
import { nodeAt, paramDecl } from "./ast-walk.js";
import type { ParamRef } from "./compiler.js";
import type { Analysis } from "./document.js";
import { toRange } from "./positions.js";

export function definition(analysis: Analysis, offset: number): Location | null {
  const { ast } = analysis.result;
  const ref = nodeAt<ParamRef>(ast.items, offset, "ParamRef");
  const decl = ref && paramDecl(ast, ref.name);
  return decl ? { uri: analysis.uri, range: toRange(decl.name.span) } : null;
}
