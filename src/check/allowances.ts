// Allowances: `allow W0004` at the end of a rule acknowledges that warning for
// that rule only, as rustc's #[allow(lint)]. The checker drops the rule's
// warnings of those codes, and says when the allowance itself is wrong: an
// error code (errors cannot be allowed), an unknown code, or a code the rule
// does not warn about (unneeded, as rustc's unfulfilled_lint_expectations).
import { error, warning, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { ABOUT_ALLOWANCES, WARNINGS } from "../diagnostics/warnings.js";
import type * as ast from "../syntax/ast.js";
import type { CheckContext } from "./context.js";

/**
 * Applies a rule's allowance to the diagnostics reported since `from` (the rule's own) and
 * returns the warning codes it silenced. `complete`: the rule was checked to the end (no
 * errors), so a code it does not warn about is known to be unneeded.
 */
export function checkAllowance(ctx: CheckContext, allowance: ast.Allowance | undefined, from: number, complete: boolean): string[] {
  if (!allowance) return [];
  const own: Diagnostic[] = [];
  const allowed = new Map<string, ast.Word>();
  const seen = new Set<string>();
  for (const code of allowance.codes) {
    if (seen.has(code.name)) continue;
    seen.add(code.name);
    const repeats = allowance.codes.filter((c) => c.name === code.name);
    if (repeats.length > 1) {
      own.push(warning("W0003", repeats[1].span, `'${code.name}' is listed ${repeats.length === 2 ? "twice" : `${repeats.length} times`}`));
    }
    const problem = codeProblem(code);
    if (problem) own.push(problem);
    else allowed.set(code.name, code);
  }

  // The rule's warnings of an allowed code are dropped; the allowance's own ones never are.
  const used = new Set<string>();
  const kept = ctx.diagnostics.splice(from).filter((d) => {
    if (d.severity !== "warning" || !allowed.has(d.code)) return true;
    used.add(d.code);
    return false;
  });
  ctx.diagnostics.push(...kept, ...own);

  if (complete) {
    for (const [name, code] of allowed) {
      if (used.has(name)) continue;
      ctx.report(
        warning("W0008", code.span, `this rule has no warning ${name} to allow`, {
          notes: [
            ABOUT_ALLOWANCES.includes(name)
              ? `${name} is about an allowance itself, which cannot silence it: fix the allowance instead`
              : `${name}: ${WARNINGS[name]}; an allowance that silences nothing would hide the warning if the rule changed`,
          ],
          suggestion: allowance.codes.length === 1 ? "remove the allowance" : `remove '${name}' from the allowance`,
        }),
      );
    }
  }
  return [...allowed.keys()].filter((name) => used.has(name));
}

function codeProblem(code: ast.Word): Diagnostic | undefined {
  if (/^E\d{4}$/.test(code.name)) {
    return error("E0180", code.span, `'${code.name}' is an error, and errors cannot be allowed`, {
      notes: ["an allowance acknowledges a warning; an error means the rule cannot compile as written"],
      suggestion: "fix what the error says, and remove it from the allowance",
    });
  }
  if (Object.hasOwn(WARNINGS, code.name)) return undefined;
  const hint = didYouMean(code.name, Object.keys(WARNINGS));
  return warning("W0007", code.span, `'${code.name}' is not a warning code of qtrip: the allowance ignores it`, {
    notes: [`the warning codes are ${Object.keys(WARNINGS).join(", ")}`],
    ...(hint ? { suggestion: hint } : {}),
  });
}
