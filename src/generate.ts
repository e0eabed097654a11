// Regenerates the committed artifacts derived from the parser (run: npm run generate).
// Tests fail when a committed copy no longer matches what this writes.
import { writeFileSync } from "node:fs";
import { cstDts } from "./syntax/generate-cst-dts.js";

writeFileSync("src/syntax/cst.d.ts", cstDts());
console.log("wrote src/syntax/cst.d.ts");
