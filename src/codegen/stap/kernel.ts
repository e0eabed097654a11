// Kernel versions: the range of kernels a script is built for. Where the
// kernel's interfaces changed inside the range, the generated script adapts
// when SystemTap builds it on the target (@choose_defined, `!` alternatives,
// %( kernel_v %) conditionals); outside it, one form is enough.

export interface KernelRange {
  /** The oldest kernel, e.g. "4.18". */
  min: string;
  /** The newest kernel, e.g. "6.12". */
  max: string;
}

/** The kernel lines qtrip supports: RHEL 8's 4.18 to Debian 13's 6.12. */
export const SUPPORTED_KERNELS: KernelRange = { min: "4.18", max: "6.12" };

function parts(version: string): number[] {
  return version.split(".").map((n) => Number.parseInt(n, 10));
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * An expression that changed in kernel `since`: the new form on kernels of the
 * range that all have it, the old one where none does, and otherwise whichever
 * the target's headers define.
 */
export function changedIn(kernel: KernelRange, since: string, before: string, after: string): string {
  if (compareVersions(kernel.min, since) >= 0) return after;
  if (compareVersions(kernel.max, since) < 0) return before;
  return `@choose_defined(${after}, ${before})`;
}

/** SystemTap's build-time choice by the target's kernel version: `after` on `since` and later, `before` on older kernels. */
export function sinceKernel(since: string, after: string, before: string): string {
  return `%( kernel_v >= "${since}" %? ${after} %: ${before} %)`;
}

/** sinceKernel()'s choices in words, for readers who do not read SystemTap (`qtrip explain`). */
export function kernelChoiceWords(text: string): string {
  return text.replace(/%\( kernel_v >= "([\d.]+)" %\? (.*?) %: (.*?) %\)/g, "$2 on $1+ kernels, $3 before");
}
