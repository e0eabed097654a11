// syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]
import type { ConditionEntry } from "../src/stdlib.js";
import { CURRENT_TASK, syscallSelect } from "./common.js";

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
  codegen: ({ names }) => {
    const errnos = names.errnos ?? [];
    // sys_exit's $ret is the result; -4095..-1 are errors. The call's number is orig_ax.
    const failed = errnos.length ? `(${errnos.map((e) => `$ret == -${e.number}`).join(" || ")})` : "$ret < 0 && $ret >= -4095";
    const select = syscallSelect((names.syscalls ?? []).map((c) => c.number), "$regs->orig_ax");
    return {
      kind: "event",
      probe: 'kernel.trace("raw_syscalls:sys_exit")',
      test: () => (select ? `${failed} && ${select}` : failed),
      attributes: CURRENT_TASK,
    };
  },
};
