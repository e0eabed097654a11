// event NAME
import { KERNEL_EVENTS, type KernelEvent } from "./kernel-events.js";
import { condition, type Needs } from "./spec.js";

export const event = condition({
  id: "event",
  syntax: "event NAME",
  holds: `one of ${KERNEL_EVENTS.join(", ")} happened in the guest kernel (pid, comm etc. are those of the task running then; for oom_kill, the victim's)`,
  head: "event",
  pattern: [{ names: "event", arg: "event", single: true }],
  threshold: false,
  subject: "current task",
  watches: ({ names }) => `the guest kernel's ${names.event[0].name} events`,
  cost: { class: "low", detail: "fires only when the event happens" },
  caveats: [
    "softlockup, hung_task and rcu_stall are seen in the messages the kernel prints for them",
    "for oom_kill the filters test the victim, not the task whose allocation met the OOM killer",
  ],
  example: "when event hung_task",
  needs: ({ names }) => EVENT_NEEDS[names.event[0].name as KernelEvent],
});

/** A kernel message: for events the kernel reports only by printing them. */
function printed(...texts: string[]): Needs {
  return { kind: "event", at: { on: "console-line" }, select: [{ kind: "line-contains", texts }] };
}

function reported(kernelEvent: KernelEvent): Needs {
  return { kind: "event", at: { on: "kernel-event", kernelEvent } };
}

const EVENT_NEEDS: Record<KernelEvent, Needs> = {
  // "watchdog: BUG: soft lockup - CPU#3 stuck for 22s!"
  softlockup: printed("soft lockup - CPU#"),
  // "INFO: task nova-api:1234 blocked for more than 120 seconds."
  hung_task: printed(" blocked for more than "),
  // "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "... self-detected stall on CPU" and
  // "... detected expedited stalls on CPUs/tasks: {" (the kernel's RCU stall tracepoint needs
  // CONFIG_RCU_TRACE, which distributions leave off).
  rcu_stall: printed("detected stall", "detected expedited stall"),
  // The victim, as the OOM killer marks it: the filters are its.
  oom_kill: { kind: "event", at: { on: "oom-victim" } },
  nmi_backtrace: reported("nmi_backtrace"),
  warn: reported("warn"),
  oops: reported("oops"),
  panic: reported("panic"),
};
