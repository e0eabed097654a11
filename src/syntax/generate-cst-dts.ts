// Regenerates src/syntax/cst.d.ts, the CST typings, from the parser itself.
// Run by `npm run build`; a test fails when the committed file is stale.
import { generateCstDts } from "chevrotain";
import { parser } from "./parser.js";

export function cstDts(): string {
  return generateCstDts(parser.getGAstProductions());
}
