// event NAME
import { KERNEL_EVENTS, type KernelEvent } from "./kernel-events.js";
import { condition, type Needs, type Selection } from "./spec.js";

export const event = condition({
  id: "event",
  syntax: "event NAME",
  holds: `one of ${KERNEL_EVENTS.join(", ")} happened in the guest kernel (pid, comm etc. are those of the task running then; for oom_kill, the victim's); vm_resumed: the hypervisor paused the whole guest and let it run again`,
  head: "event",
  pattern: [{ names: "event", arg: "event", single: true }],
  threshold: false,
  subject: "current task",
  watches: ({ names }) => `the guest kernel's ${names.event[0].name} events`,
  cost: { class: "low", detail: "fires only when the event happens" },
  caveats: [
    "softlockup is seen in the line the watchdog logs from its timer interrupt, and rcu_stall, before Linux 5.13, in the line RCU logs from its timer interrupt or its kernel threads: the same words logged by a user task (a program named after them that crashes) do not count",
    "for hung_task the filters test the blocked task, not khungtaskd, which reports it",
    "for oom_kill the filters test the victim, not the task whose allocation met the OOM killer",
    "vm_resumed needs kvm-clock (KVM; not TCG, not no-kvmclock): each resume steps kvm-clock's per-vCPU record, whatever the guest's clocksource; it is seen at the first hard timer that expires after the resume, on any vCPU, once per resume; pauses under 10 ms are not told apart from the host's clock updates",
  ],
  example: "when event hung_task",
  needs: ({ names }) => EVENT_NEEDS[names.event[0].name as KernelEvent],
});

/** A line the kernel logs for an event it reports only by printing it. */
function printed(select: Selection[]): Needs {
  return { kind: "event", at: { on: "console-line" }, select };
}

function reported(kernelEvent: KernelEvent): Needs {
  return { kind: "event", at: { on: "kernel-event", kernelEvent } };
}

/**
 * RCU's stall report where the kernel has no rcu:rcu_stall_warning tracepoint (before 5.13):
 * "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "... self-detected stall on CPU",
 * "... detected expedited stalls on CPUs/tasks: {" (pr_fmt "rcu: " in kernel/rcu/tree.c),
 * logged from the scheduling-clock interrupt, or from a kernel thread for expedited grace periods.
 */
export const RCU_STALL_LINE: Selection[] = [
  { kind: "line-starts", texts: ["rcu: INFO: "] },
  { kind: "line-contains", texts: [" detected stalls on CPUs/tasks:", " self-detected stall on CPU", " detected expedited stalls on CPUs/tasks:"] },
  { kind: "logged-from", context: "kernel" },
];

const EVENT_NEEDS: Record<KernelEvent, Needs> = {
  // "watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [comm:pid]" (pr_fmt "watchdog: " in kernel/watchdog.c),
  // logged by watchdog_timer_fn(), a hard-irq hrtimer (HRTIMER_MODE_REL_HARD), in 5.10, 6.1 and 6.12.
  softlockup: printed([
    { kind: "line-starts", texts: ["watchdog: BUG: soft lockup - CPU#"] },
    { kind: "logged-from", context: "hard interrupt" },
  ]),
  // sched:sched_process_hang, which khungtaskd fires for the task before it prints "INFO: task
  // NAME:PID blocked for more than N seconds." (also once the warnings are used up).
  hung_task: { kind: "event", at: { on: "task-hung" } },
  // rcu:rcu_stall_warning where the kernel has it, else RCU_STALL_LINE.
  rcu_stall: { kind: "event", at: { on: "rcu-stall" } },
  // The victim, as the OOM killer marks it: the filters are its.
  oom_kill: { kind: "event", at: { on: "oom-victim" } },
  nmi_backtrace: reported("nmi_backtrace"),
  warn: reported("warn"),
  oops: reported("oops"),
  panic: reported("panic"),
  // kvm-clock's record steps at each resume (runtime/pauses.ts), seen at the next hard timer's expiry on any vCPU.
  vm_resumed: { kind: "event", at: { on: "timer-expires" }, select: [{ kind: "vm-resumed" }] },
};
