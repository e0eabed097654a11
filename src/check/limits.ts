// Bounds on what a rule file may ask for; each is checked with a diagnostic.
// The bounds of filter values are in the attribute table (stdlib/attributes.ts).

/** Longest duration: what fits a signed 64-bit count of nanoseconds (about 292 years). */
export const MAX_NANOSECONDS = 2n ** 63n - 1n;
/** Largest N of `N times within D`: the guest keeps N timestamps per rule. */
export const MAX_TIMES = 100_000n;
/** Longest case, title, label or message text, in bytes: a SystemTap string holds 127 (MAXSTRINGLEN 128). */
export const MAX_TEXT_BYTES = 127;
/** Kernel symbol names: KSYM_NAME_LEN is 128 before 6.1 (512 since), with its NUL. */
export const MAX_SYMBOL_BYTES = 127;
/** Bitmasks of rules sharing a probe are one 64-bit word. */
export const MAX_RULES = 64;
