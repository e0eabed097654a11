// Fragments: the pieces of embedded C and SystemTap functions a
// generated script may carry. A script gets exactly the fragments its rules
// need, each once, each after those it builds on.

export interface Fragment {
  name: string;
  /** Fragments this one uses; they come first. */
  requires?: Fragment[];
  /** Top-level C, without the `%{ %}` around it. */
  c?: string;
  /** SystemTap: functions (often with embedded C bodies) and helper probes. */
  stap?: string;
  /** The probe points of those helper probes, for readers (`qtrip explain`). */
  probes?: string[];
}

/** The fragments and everything they require, in an order where each follows what it uses. */
export function ordered(fragments: Iterable<Fragment>): Fragment[] {
  const out: Fragment[] = [];
  const seen = new Set<Fragment>();
  const visit = (f: Fragment): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const r of f.requires ?? []) visit(r);
    out.push(f);
  };
  for (const f of fragments) visit(f);
  return out;
}

/** The fragments as script text: all C first (one `%{ %}` block), then the SystemTap parts. */
export function emitFragments(fragments: Iterable<Fragment>): string[] {
  const list = ordered(fragments);
  const c = list.filter((f) => f.c).map((f) => `/* ${f.name} */\n${f.c!.trim()}`);
  const stap = list.filter((f) => f.stap).map((f) => f.stap!.trim());
  return [...(c.length ? ["%{", c.join("\n\n"), "%}"] : []), ...stap.flatMap((s) => ["", s])];
}
