// syscall [NAME {, NAME}] latency > D
// A system call that has been running longer than D, seen while it is still
// blocked: a call that never returns still trips.
import { listed, syscallsNamed, THREAD_EXIT } from "./common.js";
import { condition } from "./spec.js";

export const syscallLatency = condition({
  id: "syscall-latency",
  syntax: "syscall [NAME {, NAME}] latency > D",
  holds: "a system call (any, or one of the x86_64 names) has been running longer than D, detected while it is still blocked",
  head: "syscall",
  pattern: [{ names: "syscall", arg: "syscalls", optional: true }, { word: "latency" }],
  threshold: true,
  subject: "current task",
  watches: ({ names }) => (listed(names.syscalls) ? `system calls ${listed(names.syscalls)}` : "every system call"),
  cost: {
    class: "medium",
    detail: "two events per system call on every CPU (filters first, then one lock-free table write for matching calls); a scan of the calls in flight only when one could cross its threshold",
  },
  caveats: ["x86_64 system call numbers; 32-bit (compat) calls are not timed when names are given"],
  example: "when syscall latency > 200ms on pid 1234",
  needs: ({ names }) => ({
    kind: "inflight",
    table: "syscall",
    start: { on: "syscall-enter", select: syscallsNamed(names.syscalls) },
    stops: [{ on: "syscall-exit", reason: "the call returned" }, THREAD_EXIT],
  }),
});
