// syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]
import type { ConditionEntry } from "../src/stdlib.js";

export const syscallError: ConditionEntry = {
  id: "syscall-error",
  syntax: "syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]",
  holds: "a system call (any, or one of the x86_64 names) returned an error (any, or one of the errno names)",
  head: "syscall",
  pattern: [{ names: "syscall", arg: "syscalls", optional: true }, { word: "error" }, { names: "errno", arg: "errnos", optional: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("raw_syscalls:sys_exit")'],
  kernels: "3.7+ (raw_syscalls tracepoints)",
  debuginfo: false,
  cost: { class: "medium", detail: "one tracepoint hit per system call on every CPU" },
  example: 'when syscall openat error ENOENT, EACCES on comm "nova-api" 10 times within 5s',
};
