// The specs layer: every condition of the language, in the reference's order,
// with the tables, attributes and events they are written in.
import { event } from "./event.js";
import { functionLatency } from "./function-latency.js";
import { ioLatency } from "./io-latency.js";
import { message } from "./message.js";
import { messageValue } from "./message-value.js";
import { netStall, tcpReset, tcpRetransmit, txTimeout } from "./network.js";
import { reclaimStall } from "./reclaim-stall.js";
import { schedLatency } from "./sched-latency.js";
import { signal } from "./signal.js";
import type { ConditionSpec } from "./spec.js";
import { steal } from "./steal.js";
import { syscallError } from "./syscall-error.js";
import { syscallLatency } from "./syscall-latency.js";
import { taskBlocked } from "./task-blocked.js";
import { tickGap } from "./tick-gap.js";
import { timerLate } from "./timer-late.js";
import { vcpuStall } from "./vcpu-stall.js";

export const specs: readonly ConditionSpec[] = [
  syscallLatency,
  syscallError,
  ioLatency,
  schedLatency,
  taskBlocked,
  reclaimStall,
  functionLatency,
  tickGap,
  vcpuStall,
  timerLate,
  steal,
  message,
  messageValue,
  netStall,
  // Before `event NAME`: their words would read as an (unknown) event name there.
  tcpRetransmit,
  tcpReset,
  txTimeout,
  event,
  signal,
];

export { ATTRIBUTE_NAMES, ATTRIBUTES, SUBJECTS, type Attribute, type AttributeInfo, type Subject } from "./attributes.js";
export { RCU_STALL_LINE } from "./event.js";
export { WATCHDOG_LINE } from "./network.js";
export { EVENTS, type EventName } from "./events.js";
export { LINE_UNITS, readLinePattern, type LinePattern, type LinePatternProblem } from "./line-pattern.js";
export { KERNEL_EVENTS, NETWORK_EVENTS, type KernelEvent } from "./kernel-events.js";
export type * from "./spec.js";
export { pausesUncountable } from "./spec.js";
export { NAME_TABLES, tables } from "./tables.js";
