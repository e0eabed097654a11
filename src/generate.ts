// Regenerates the committed artifacts derived from the parser, the condition specs and the diagnostic registry (run: npm run generate).
// Tests fail when a committed copy no longer matches what this writes.
import { writeFileSync } from "node:fs";
import { diagnosticsPage } from "./diagnostics/page.js";
import { conditionsPage } from "./explain/conditions-page.js";
import { ebnf, railroadHtml } from "./syntax/grammar-reference.js";
import { cstDts } from "./syntax/generate-cst-dts.js";
import { textMateGrammar } from "./syntax/textmate.js";

const outputs: [string, string][] = [
  ["src/syntax/cst.d.ts", cstDts()],
  ["grammar/qtrip.ebnf", ebnf()],
  ["grammar/railroad.html", railroadHtml()],
  ["grammar/qtrip.tmLanguage.json", `${JSON.stringify(textMateGrammar(), null, 2)}\n`],
  ["docs/conditions.md", conditionsPage()],
  ["docs/diagnostics.md", diagnosticsPage()],
];
for (const [path, text] of outputs) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
