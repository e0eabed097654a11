// From a rule to a module for the test kernel: the rule is compiled through the
// library (src/compile.ts, what `qtrip compile` runs), and a script is built with
// the real stap -p4 (test/support/stap.ts). Nothing is loaded here.
import { createHash } from "node:crypto";
import { compileSource } from "../../../src/compile.js";
import type { HostAction, HostProbe } from "../../../src/codegen/stap/index.js";
import { renderText } from "../../../src/diagnostics/render.js";
import { splitOptions, stap } from "../../support/stap.js";

export interface Rule {
  source: string;
  /** `qtrip compile --define NAME=VALUE` */
  defines?: Record<string, string>;
  dryRun?: boolean;
  hostAction?: HostAction;
  hostProbe?: HostProbe;
  /** `qtrip compile --any-guest` */
  anyGuest?: boolean;
}

/** Both scripts of a rule file `rule.qt`; a rule with errors throws them, rendered. */
export function compileRule(rule: Rule): { guest: string; host: string } {
  const fileName = "rule.qt";
  const result = compileSource(rule.source, {
    fileName,
    dryRun: rule.dryRun ?? false,
    ...(rule.defines ? { defines: new Map(Object.entries(rule.defines)) } : {}),
    ...(rule.hostAction ? { hostAction: rule.hostAction } : {}),
    ...(rule.hostProbe ? { hostProbe: rule.hostProbe } : {}),
    ...(rule.anyGuest ? { anyGuest: true } : {}),
  });
  if (!result.outputs) {
    const text = result.diagnostics.map((d) => renderText(d, { name: fileName, text: rule.source })).join("\n");
    throw new Error(`the rule does not compile:\n${text}`);
  }
  return { guest: result.outputs.guest, host: result.outputs.host };
}

const modules = new Map<string, Promise<string>>();

/**
 * Builds a script into a module with stap options as a script's header gives them.
 * The module is named `name` (staprun names a module after its file), by default
 * after the script's hash. The same build is made once per process.
 */
export function stapModule(script: string, opts: { options: string; name?: string }): Promise<string> {
  const hash = createHash("sha256").update(opts.options).update(script).digest("hex").slice(0, 12);
  const name = opts.name ?? `qtrip_${hash}`;
  const key = `${name} ${hash}`;
  let module = modules.get(key);
  if (!module) {
    module = stap(script, { options: splitOptions(opts.options), moduleName: name }).then((result) => {
      if (!result.module) throw new Error(`stap -p4 failed for ${name}:\n${result.stderr}`);
      return result.module;
    });
    modules.set(key, module);
  }
  return module;
}
