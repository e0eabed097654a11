// The condition specs, for `qtrip sources`: what each watches, its
// filters, the probe points its example's script uses and their cost, and the
// example itself.
import { runPipeline } from "../compile.js";
import { GUEST_BACKEND } from "../codegen/guest-backend.js";
import { pausesUncountable, specs } from "../../stdlib/index.js";

export interface SourceInfo {
  condition: string;
  syntax: string;
  holds: string;
  filters: string[];
  probes: string[];
  cost: string;
  costDetail: string;
  /** Every probe point qtrip uses needs no kernel debuginfo: tracepoints, kprobes on symbols and timers. */
  debuginfo: boolean;
  kernels: string;
  /** Whether a rule may say `counting pauses`, and if not why. */
  pauses: string;
  example: string;
}

/** The probe points and kernel notes of a one-rule source (a condition's example), as its script really uses them. */
export function lowered(rule: string, id: string): { probes: string[]; kernels: string[] } {
  const { plans } = runPipeline(rule, { fileName: "example.qt" }, "plan");
  if (!plans) throw new Error(`the example of ${id} does not compile`);
  return GUEST_BACKEND.probePoints(plans.guest, GUEST_BACKEND.kernels).get(0)!;
}

function pausesText(spec: (typeof specs)[number]): string {
  const why = pausesUncountable(spec);
  return why === undefined
    ? "the hypervisor's pauses of the whole guest are left out of its durations; `counting pauses` counts them"
    : `\`counting pauses\` is refused (E0163): ${why}`;
}

export function sources(): SourceInfo[] {
  return specs.map((e) => {
    const { probes, kernels } = lowered(e.example, e.id);
    return {
      condition: e.id,
      syntax: e.syntax,
      holds: e.holds,
      filters: [...e.attributes],
      probes,
      cost: e.cost.class,
      costDetail: e.cost.detail,
      debuginfo: false,
      kernels: [...kernels, ...e.caveats].join("; "),
      pauses: pausesText(e),
      example: e.example,
    };
  });
}

export function sourcesText(): string {
  return sources()
    .map((s) =>
      [
        `${s.syntax}`,
        `  holds:     ${s.holds}`,
        `  filters:   ${s.filters.join(", ")}`,
        `  probes:    ${s.probes.join("; ")}`,
        `  cost:      ${s.cost}: ${s.costDetail}`,
        `  debuginfo: ${s.debuginfo ? "needed" : "not needed"}`,
        `  kernels:   ${s.kernels}`,
        `  pauses:    ${s.pauses}`,
        `  example:   ${s.example}`,
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}
