// The host backends, and the one door to them: compile, explain, the CLI and the
// LSP find a backend here by name and ask it what it supports, never a backend's
// folder directly. Each backend is a folder under src/codegen/ exporting one
// HostBackend. (The guest side has one backend, SystemTap.)
import type { HostPlan, HostVmm } from "../plan/host.js";
import { bpfHost } from "./bpf/index.js";
import { ftraceHost } from "./ftrace/index.js";
import { stapHost } from "./stap/index.js";

export type HostBackendName = "stap" | "ftrace" | "bpf";

/** What the user chose on the command line, before any rule file is read. */
export interface HostChoice {
  action: string;
  probe: string;
  vmm: HostVmm;
}

export interface HostBackend {
  name: HostBackendName;
  /** The actions it can take on a trip; the first is the default. */
  actions: readonly string[];
  /** Those of its actions that end the host (into kdump). */
  crashActions: readonly string[];
  /** Where it can catch the channel write; the first is the default. */
  probes: readonly string[];
  /** The host kernels it works on, e.g. ">= 5.10". */
  kernels: string;
  /** `rule` → the host script's file name. */
  outputName(base: string): string;
  /** A choice of action, probe and guest that it has both names for but cannot do together: a usage error. */
  usageProblem?(choice: HostChoice): string | undefined;
  /** The host script. The plan's action and probe are among the backend's (hostChoiceProblem said so). */
  emit(plan: HostPlan): string;
  /** A companion the host script's header names, written beside it: a launcher that checks the host before anything runs. */
  companion?(plan: HostPlan, script: string): { name: string; text: string; mode: number };
  /** What the host side does, in plain words, one paragraph a line (for `qtrip explain`). */
  explain(plan: HostPlan): string[];
}

export const HOST_BACKENDS: readonly HostBackend[] = [stapHost, ftraceHost, bpfHost];

export const DEFAULT_HOST_BACKEND: HostBackendName = "stap";

/** Every action and probe point some backend has, in the registry's order (for --help). */
export const ALL_HOST_ACTIONS = [...new Set(HOST_BACKENDS.flatMap((b) => b.actions))];
export const ALL_HOST_PROBES = [...new Set(HOST_BACKENDS.flatMap((b) => b.probes))];

export function hostBackend(name: string): HostBackend | undefined {
  return HOST_BACKENDS.find((b) => b.name === name);
}

function either(names: string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

/** Why `backend` cannot do `choice`, naming what works, in a usage error's words; undefined when it can. */
export function hostChoiceProblem(backend: HostBackend, choice: HostChoice): string | undefined {
  const { action, probe } = choice;
  const others = (has: (b: HostBackend) => boolean) => HOST_BACKENDS.filter((b) => b !== backend && has(b)).map((b) => b.name);
  if (!backend.actions.includes(action)) {
    const crashes = HOST_BACKENDS.some((b) => b.crashActions.includes(action));
    const what = crashes && backend.crashActions.length === 0 ? "cannot crash the host" : `has no action ${action}`;
    const elsewhere = crashes ? others((b) => b.crashActions.length > 0) : others((b) => b.actions.includes(action));
    const hint = elsewhere.length ? ` (${crashes ? "for a crash" : action}: --host-backend ${either(elsewhere)})` : "";
    return `--host-backend ${backend.name} --host-action ${action}: the ${backend.name} backend ${what}; its actions are ${backend.actions.join(", ")}${hint}`;
  }
  if (!backend.probes.includes(probe)) {
    const elsewhere = others((b) => b.probes.includes(probe));
    const hint = elsewhere.length ? ` (${probe}: --host-backend ${either(elsewhere)})` : "";
    return `--host-backend ${backend.name} --host-probe ${probe}: the ${backend.name} backend has no probe point ${probe}; its probe points are ${backend.probes.join(", ")}${hint}`;
  }
  return backend.usageProblem?.(choice);
}
