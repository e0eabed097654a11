// syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]
import { listed, syscallsNamed } from "./common.js";
import { condition } from "./spec.js";

export const syscallError = condition({
  id: "syscall-error",
  syntax: "syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]",
  holds: "a system call (any, or one of the x86_64 names) returned an error (any, or one of the errno names)",
  head: "syscall",
  pattern: [{ names: "syscall", arg: "syscalls", optional: true }, { word: "error" }, { names: "errno", arg: "errnos", optional: true }],
  threshold: false,
  subject: "current task",
  watches: ({ names }) => {
    const calls = listed(names.syscalls);
    const errnos = listed(names.errnos);
    return `${calls ? `system calls ${calls}` : "every system call"} that fail${errnos ? ` with ${errnos}` : ""}`;
  },
  cost: { class: "medium", detail: "one event per system call on every CPU" },
  caveats: ["x86_64 system call numbers"],
  example: 'when syscall openat error ENOENT, EACCES on comm "nova-api" 10 times within 5s',
  needs: ({ names }) => ({
    kind: "event",
    at: { on: "syscall-exit" },
    select: [{ kind: "syscall-failed", errnos: (names.errnos ?? []).map((e) => e.number) }, ...syscallsNamed(names.syscalls)],
  }),
});
