// Diagnostics as a SARIF 2.1.0 log, for CI annotations (`qtrip check --format
// sarif`): one run, the codes as the tool's rules, each diagnostic a result
// with its region; a suggestion that names a replacement becomes a fix.
import { pathToFileURL } from "node:url";
import { isAbsolute } from "node:path";
import type { Diagnostic } from "./diagnostic.js";
import { replacementOf } from "./fix.js";
import { codeInfo, docsAnchor, type Code } from "./registry.js";
import type { SourceFile } from "./render.js";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** A path as the user gave it: relative ones against the checkout (%SRCROOT%), as CI services read them. */
function artifactLocation(path: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(path)) return { uri: pathToFileURL(path).href };
  return { uri: encodeURI(path.split("\\").join("/")), uriBaseId: "%SRCROOT%" };
}

/** Columns count UTF-16 code units (the run says so) and end columns are exclusive, as in SARIF. */
function region(d: Diagnostic) {
  return { startLine: d.span.start.line, startColumn: d.span.start.column, endLine: d.span.end.line, endColumn: d.span.end.column };
}

function messageText(d: Diagnostic): string {
  return [d.message, ...(d.notes ?? []).map((n) => `note: ${n}`), ...(d.suggestion ? [`help: ${d.suggestion}`] : [])].join("\n");
}

/** A code as a SARIF rule, from the registry: its title, its explanation and where the docs explain it. */
function rule(id: Code) {
  const info = codeInfo(id);
  return {
    id,
    shortDescription: { text: info.title },
    fullDescription: { text: info.explanation },
    help: { text: `${info.explanation} (${docsAnchor(id)})` },
    defaultConfiguration: { level: info.severity },
  };
}

export function toSarif(files: { file: SourceFile; diagnostics: Diagnostic[] }[], version: string): object {
  const codes = [...new Set(files.flatMap((f) => f.diagnostics.map((d) => d.code)))].sort();
  const results = files.flatMap(({ file, diagnostics }) =>
    diagnostics.map((d) => {
      const location = artifactLocation(file.name);
      const replacement = replacementOf(d);
      return {
        ruleId: d.code,
        ruleIndex: codes.indexOf(d.code),
        level: d.severity,
        message: { text: messageText(d) },
        locations: [{ physicalLocation: { artifactLocation: location, region: region(d) } }],
        ...(replacement !== undefined
          ? {
              fixes: [
                {
                  description: { text: d.suggestion! },
                  artifactChanges: [{ artifactLocation: location, replacements: [{ deletedRegion: region(d), insertedContent: { text: replacement } }] }],
                },
              ],
            }
          : {}),
      };
    }),
  );
  return {
    $schema: SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "qtrip",
            version,
            rules: codes.map(rule),
          },
        },
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
}
