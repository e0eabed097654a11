// docs/diagnostics.md, written from the registry by `npm run generate`;
// test/diagnostics/registry.test.ts fails when the committed page differs.
import { CODES, codeInfo } from "./registry.js";

export function diagnosticsPage(): string {
  const lines = [
    "# Diagnostics",
    "",
    "<!-- Generated from src/diagnostics/registry.ts by `npm run generate`: edit the registry, not this page. -->",
    "",
    "Every diagnostic has a stable code, printed last: `FILE:LINE:COL: error: MESSAGE [CODE]`, then the",
    "source line with carets under the offending text, `note:` lines and a `help:` suggestion.",
    "",
    "- `E00xx` (the file's text and syntax) and `E01xx` (the checker) are errors in a rule file: exit status 1,",
    "  and nothing is written.",
    "- `W00xx` are warnings: they do not change the exit status, and a rule's `allow` clause can silence them",
    "  (see the language reference, grammar/reference.md, \"Allowances\").",
    "- `E09xx` are errors in a capture that `qtrip report` reads (docs/report.md).",
    "",
    "`qtrip explain CODE` prints a code's explanation; `qtrip check --format sarif` carries the same text in its rules.",
    "",
    "| code | severity | meaning |",
    "|---|---|---|",
    ...CODES.map((code) => `| [${code}](#${code.toLowerCase()}) | ${codeInfo(code).severity} | ${codeInfo(code).title} |`),
  ];
  for (const code of CODES) {
    const info = codeInfo(code);
    lines.push("", `## ${code}`, "", `**${info.title}** (${info.severity})`, "", info.explanation);
  }
  return `${lines.join("\n")}\n`;
}
