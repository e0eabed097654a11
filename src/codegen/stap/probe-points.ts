// The probe points a plan's script uses, rule by rule, for readers who do not
// read SystemTap (`qtrip explain`, `qtrip sources`).
import type { GuestPlan } from "../../plan/plan.js";
import { kernelChoiceWords, type KernelRange } from "./kernel.js";
import { lower, LOWERING } from "./lowering.js";
import { lowerSelection } from "./selections.js";

export interface RuleProbes {
  probes: string[];
  /** Where those probe points exist, as far as qtrip knows. */
  kernels: string[];
}

export function probePoints(plan: GuestPlan, kernel: KernelRange): Map<number, RuleProbes> {
  const out = new Map<number, RuleProbes>();
  for (const table of plan.tables) {
    const events = [table.start, ...table.stops];
    // Several stops may share a probe point (sched_switch: the task in, the task out): named once.
    const probes = [
      `${lower(table.start, kernel).probe} (start)`,
      ...new Set(table.stops.map((s) => `${lower(s, kernel).probe} (stop)`)),
      "a one-shot hrtimer in the script's own C, at the first moment one could cross its threshold (scan)",
    ];
    const kernels = [...new Set(events.map((e) => LOWERING[e.on].kernels))];
    for (const { rule } of table.rules) out.set(rule.index, { probes, kernels });
  }
  for (const { rule, at, select } of plan.events) {
    const lowered = lower(at, kernel);
    const helpers = select.flatMap((s) => lowerSelection(s, lowered.values, rule.index).fragments.flatMap((f) => f.probes ?? []));
    out.set(rule.index, { probes: [kernelChoiceWords(lowered.probe), ...helpers], kernels: [LOWERING[at.on].kernels] });
  }
  return out;
}
