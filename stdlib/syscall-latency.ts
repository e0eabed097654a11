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
  pausesCountable: true,
  example: "when syscall latency > 200ms on pid 1234",
  // An idle thread waits in these as long as it likes: waiting for a lock, an event, a
  // child, a signal, a timer or input is their purpose.
  blocksByDesign: {
    arg: "syscalls",
    names: [
      "futex", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
      "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg", "wait4", "waitid", "pause",
      "rt_sigsuspend", "rt_sigtimedwait", "nanosleep", "clock_nanosleep", "io_getevents",
      "io_pgetevents", "io_uring_enter", "msgrcv", "semop", "semtimedop", "mq_timedreceive", "flock",
    ],
    // On a socket, a pipe or a terminal these wait for the other end with no time limit:
    // a shell or a server reading its input; a writer whose reader stopped (`journalctl |
    // less`, a terminal paused with Ctrl-S, a TCP peer that stopped reading but still
    // answers the zero-window probes). On a file, read and write do I/O that a rule may
    // well time, so the warning says where they wait. pread64 and pwrite64 fail on those
    // (ESPIPE) and stay unwarned. connect is left out: a TCP connect gives up after its
    // SYN retries, and a long one is a symptom (a peer that does not answer), not idleness.
    onStreams: ["read", "readv", "write", "writev", "sendto", "sendmsg", "sendmmsg", "sendfile", "splice", "tee", "vmsplice"],
    whenOmitted: true,
  },
  needs: ({ names }) => ({
    kind: "inflight",
    table: "syscall",
    start: { on: "syscall-enter", select: syscallsNamed(names.syscalls) },
    stops: [{ on: "syscall-exit", reason: "the call returned" }, ...THREAD_ENDS],
  }),
});
