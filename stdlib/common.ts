// Pieces several conditions share.
import type { GuestEvent, Selection } from "./spec.js";

/** A thread that dies inside what was timed never reaches the stop event: forget it when it exits. */
export const THREAD_EXIT: GuestEvent & { reason: string } = {
  on: "thread-exit",
  reason: "the thread exited before it ended (exit, exit_group, or killed while blocked)",
};

/** The system calls named in a rule, if any. */
export function syscallsNamed(calls: { number: number }[] | undefined): Selection[] {
  return calls?.length ? [{ kind: "syscall-is", numbers: calls.map((c) => c.number) }] : [];
}

export function listed(items: { name: string }[] | undefined): string | undefined {
  return items?.length ? items.map((i) => i.name).join(", ") : undefined;
}
