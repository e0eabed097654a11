// syscall [NAME {, NAME}] latency > D
// A system call that has been running longer than D, seen while it is still
// blocked: raw_syscalls tracepoints need no debuginfo, and a scan of the calls
// in flight trips on a call that never returns.
import type { ConditionEntry } from "../src/stdlib.js";
import { CURRENT_TASK, syscallSelect, THREAD_EXIT_STOP } from "./common.js";

export const syscallLatency: ConditionEntry = {
  id: "syscall-latency",
  syntax: "syscall [NAME {, NAME}] latency > D",
  holds: "a system call (any, or one of the x86_64 names) has been running longer than D, detected while it is still blocked",
  head: "syscall",
  pattern: [{ names: "syscall", arg: "syscalls", optional: true }, { word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ["kernel.trace(\"raw_syscalls:sys_enter\")", "kernel.trace(\"raw_syscalls:sys_exit\")", "kernel.trace(\"sched:sched_process_exit\")", "timer.ms(scan period)"],
  kernels: "3.7+ (raw_syscalls tracepoints); x86_64 system call numbers; 32-bit (compat) calls are not timed when names are given",
  debuginfo: false,
  cost: {
    class: "medium",
    detail:
      "two tracepoint hits per system call on every CPU (filters first, then one lock-free table write for matching calls); one scan of the in-flight table per period",
  },
  example: "when syscall latency > 200ms on pid 1234",
  codegen: ({ names }) => ({
    kind: "inflight",
    table: "syscall",
    start: {
      probes: ['kernel.trace("raw_syscalls:sys_enter")'],
      key: "tid()",
      select: syscallSelect((names.syscalls ?? []).map((c) => c.number), "$id"),
    },
    stops: [{ probe: 'kernel.trace("raw_syscalls:sys_exit")', key: "tid()", reason: "the call returned" }, THREAD_EXIT_STOP],
    attributes: CURRENT_TASK,
  }),
};
