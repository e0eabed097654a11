// The guest backend, and the one door to it: compile, explain and sources reach
// the guest side's writer here, never a backend's folder directly. It declares
// the plan capabilities it supports (the contract: a plan that needs another
// gets a diagnostic, src/plan/plan.ts: capabilityDiagnostics). SystemTap is the
// one guest backend today.
import type { GuestCapabilities, GuestPlan } from "../plan/plan.js";
import type { KernelRange } from "./stap/kernel.js";
import { stapGuest } from "./stap/index.js";

export interface GuestScriptInput {
  plan: GuestPlan;
  /** The kernels the script is built for. */
  kernel: KernelRange;
  sourceName: string;
  sourceText: string;
  outputName: string;
}

export interface GuestBackend extends GuestCapabilities {
  /** The kernel lines it supports: the default range a script is built for. */
  kernels: KernelRange;
  emit(input: GuestScriptInput): string;
  /** The guest script's launcher, written beside it: its name and text. */
  launcher(input: { script: string; scriptName: string; sourceName: string }): { name: string; text: string };
  /** The probe points each part's script uses and where they exist, for readers (`explain`, `sources`). */
  probePoints(plan: GuestPlan, kernel: KernelRange): Map<number, { probes: string[]; kernels: string[] }>;
}

export const GUEST_BACKEND: GuestBackend = stapGuest;
export type { KernelRange };
