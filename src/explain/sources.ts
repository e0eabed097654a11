// The catalogue of conditions, for `qtrip sources`: what each watches, its
// filters, its probes and their cost, and one example.
import { catalogue } from "../../stdlib/index.js";

export interface SourceInfo {
  condition: string;
  syntax: string;
  holds: string;
  filters: string[];
  probes: string[];
  cost: string;
  costDetail: string;
  debuginfo: boolean;
  kernels: string;
  example: string;
}

export function sources(): SourceInfo[] {
  return catalogue.map((e) => ({
    condition: e.id,
    syntax: e.syntax,
    holds: e.holds,
    filters: e.attributes,
    probes: e.probes,
    cost: e.cost.class,
    costDetail: e.cost.detail,
    debuginfo: e.debuginfo,
    kernels: e.kernels,
    example: e.example,
  }));
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
        `  example:   ${s.example}`,
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}
