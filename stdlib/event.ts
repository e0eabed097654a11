// event NAME
import type { ConditionEntry, EventCodegen } from "../src/stdlib.js";
import { CONSOLE_PROBE, consoleLineContains, CURRENT_TASK } from "./common.js";
import { EVENTS } from "./events.js";

export const event: ConditionEntry = {
  id: "event",
  syntax: "event NAME",
  holds: "one of softlockup, hung_task, rcu_stall, oom_kill, nmi_backtrace, warn, oops, panic happened in the guest kernel (pid, comm etc. are those of the task running then)",
  head: "event",
  pattern: [{ names: "event", arg: "event", single: true }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['softlockup, hung_task, rcu_stall: kernel.trace("printk:console")', 'oom_kill: kernel.trace("oom:mark_victim")', 'nmi_backtrace: kprobe.function("nmi_trigger_cpumask_backtrace")', 'warn: kprobe.function("__warn")', 'oops: kprobe.function("oops_enter")', 'panic: kprobe.function("panic")'],
  kernels: "any; the messages matched are those of 2.6.36+ kernels; mark_victim exists since 4.8",
  debuginfo: false,
  cost: { class: "low", detail: "fires only when the event happens" },
  example: "when event hung_task",
  codegen: ({ names }) => EVENT_CODEGEN[names.event[0].name as EventName],
};

type EventName = (typeof EVENTS)[number];

/** A kernel message: for events the kernel reports only by printing them. */
function printed(...needles: string[]): EventCodegen {
  const test = needles.length === 1 ? consoleLineContains(needles[0]) : `(${needles.map(consoleLineContains).join(" || ")})`;
  return { kind: "event", probe: CONSOLE_PROBE, test: () => test, attributes: CURRENT_TASK };
}

/** A kernel function's entry: `!` takes the first name that this kernel has. */
function entered(...functions: string[]): EventCodegen {
  return { kind: "event", probe: functions.map((f) => `kprobe.function("${f}")`).join(" !, "), attributes: CURRENT_TASK };
}

const EVENT_CODEGEN: Record<EventName, EventCodegen> = {
  // "watchdog: BUG: soft lockup - CPU#3 stuck for 22s!"
  softlockup: printed("soft lockup - CPU#"),
  // "INFO: task nova-api:1234 blocked for more than 120 seconds."
  hung_task: printed(" blocked for more than "),
  // "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "... self-detected stall on CPU" and
  // "... detected expedited stalls on CPUs/tasks: {"; the rcu_stall_warning tracepoint needs
  // CONFIG_RCU_TRACE, which distributions leave off.
  rcu_stall: printed("detected stall", "detected expedited stall"),
  oom_kill: { kind: "event", probe: 'kernel.trace("oom:mark_victim")', attributes: CURRENT_TASK },
  // The request for all CPUs' backtraces (sysrq-l, hung task and RCU stall reports);
  // older kernels lack the cpumask variant.
  nmi_backtrace: entered("nmi_trigger_cpumask_backtrace", "nmi_cpu_backtrace"),
  warn: entered("__warn"),
  oops: entered("oops_enter"),
  panic: entered("panic", "vpanic"),
};
