// syscall [NAME {, NAME}] latency > D
// A system call that has been running longer than D, seen while it is still
// blocked: a call that never returns still trips.
import { listed, syscallsNamed, THREAD_ENDS } from "./common.js";
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
  // An idle thread waits in these as long as it likes: waiting for a lock, an event, a
  // child, a signal, a timer or input is their purpose (read, on a socket or a pipe, too).
  blocksByDesign: {
    arg: "syscalls",
    names: [
      "futex", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
      "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg", "wait4", "waitid", "pause",
      "rt_sigsuspend", "rt_sigtimedwait", "nanosleep", "clock_nanosleep", "io_getevents",
      "io_pgetevents", "io_uring_enter", "msgrcv", "semop", "semtimedop", "mq_timedreceive", "flock",
    ],
    whenOmitted: true,
  },
  needs: ({ names }) => ({
    kind: "inflight",
    table: "syscall",
    start: { on: "syscall-enter", select: syscallsNamed(names.syscalls) },
    stops: [{ on: "syscall-exit", reason: "the call returned" }, ...THREAD_ENDS],
  }),
});
