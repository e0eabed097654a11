// The catalogue: every condition of the language, in the reference's order.
import type { ConditionEntry } from "../src/stdlib.js";
import { event } from "./event.js";
import { EVENTS } from "./events.js";
import { functionLatency } from "./function-latency.js";
import { ioLatency } from "./io-latency.js";
import { message } from "./message.js";
import { schedLatency } from "./sched-latency.js";
import { signal } from "./signal.js";
import { syscallError } from "./syscall-error.js";
import { syscallLatency } from "./syscall-latency.js";
import { tickGap } from "./tick-gap.js";
import errnos from "./tables/errnos.json" with { type: "json" };
import signals from "./tables/signals.json" with { type: "json" };
import syscalls from "./tables/syscalls-x86_64.json" with { type: "json" };

export const catalogue: readonly ConditionEntry[] = [
  syscallLatency,
  syscallError,
  ioLatency,
  schedLatency,
  functionLatency,
  tickGap,
  message,
  event,
  signal,
];

export { EVENTS };

export const tables: Record<"syscall" | "errno" | "signal" | "event", Record<string, number>> = {
  syscall: syscalls,
  errno: errnos,
  signal: signals,
  event: Object.fromEntries(EVENTS.map((name, i) => [name, i])),
};
