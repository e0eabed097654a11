// Every warning a rule file can get, by code, in a few words: the codes an
// allowance (`allow W0004`) may name, and what the editor shows for them.
// grammar/reference.md's table says the same; test/check/allowances.test.ts
// keeps the two, and the codes the checker emits, in step.
export const WARNINGS: Readonly<Record<string, string>> = {
  W0001: "parameter never used",
  W0003: "name listed twice",
  W0004: "system call that blocks by design",
  W0005: "rule on every system call, including those that block by design",
  W0006: "device that issues no block requests of its own",
  W0007: "unknown warning code in an allowance",
  W0008: "allowance that silences nothing",
  W0009: "message text with %u but no comparison",
};

/** Warnings about an allowance itself: it cannot silence them (fix the allowance instead). */
export const ABOUT_ALLOWANCES = ["W0007", "W0008"];
