// Every warning a rule file can get, by code, in a few words (the registry's
// titles): the codes an allowance (`allow W0004`) may name, and what the
// editor shows for them.
import { CODES, DIAGNOSTICS, type WarningCode } from "./registry.js";

export const WARNINGS: Readonly<Record<string, string>> = Object.fromEntries(
  CODES.filter((code) => DIAGNOSTICS[code].severity === "warning").map((code) => [code, DIAGNOSTICS[code].title]),
);

/** Warnings about an allowance itself: it cannot silence them (fix the allowance instead). */
const ABOUT: WarningCode[] = ["W0007", "W0008"];
export const ABOUT_ALLOWANCES: readonly string[] = ABOUT;
