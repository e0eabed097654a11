// Pieces several conditions share.
import type { GuestEvent, Selection } from "./spec.js";

/** A thread that dies inside what was timed never reaches the stop event: forget it when it exits. */
export const THREAD_EXIT: GuestEvent & { reason: string } = {
  on: "thread-exit",
  reason: "the thread exited before it ended (exit, exit_group, or killed while blocked)",
};

/**
 * A thread other than its process's leader that execs takes the leader's pid: what it
 * started under its own thread id would never see a stop under that id (nor its exit).
 */
export const THREAD_EXEC: GuestEvent & { reason: string } = {
  on: "thread-execs",
  reason: "the thread exec'd from a thread other than its process's leader, and took the leader's pid",
};

/** How a thread's own id ends: every table keyed by thread forgets the thread then. */
export const THREAD_ENDS = [THREAD_EXIT, THREAD_EXEC];

/** The system calls named in a rule, if any. */
export function syscallsNamed(calls: { number: number }[] | undefined): Selection[] {
  return calls?.length ? [{ kind: "syscall-is", numbers: calls.map((c) => c.number) }] : [];
}

export function listed(items: { name: string }[] | undefined): string | undefined {
  return items?.length ? items.map((i) => i.name).join(", ") : undefined;
}
