// message "TEXT"
import type { ConditionEntry } from "../src/stdlib.js";

export const message: ConditionEntry = {
  id: "message",
  syntax: 'message "TEXT"',
  holds: "the guest kernel logged a message containing TEXT",
  head: "message",
  pattern: [{ string: "text" }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("printk:console")'],
  kernels: "3.3+",
  debuginfo: false,
  cost: { class: "low", detail: "one tracepoint hit per kernel log message" },
  example: 'when message "blk_update_request: I/O error" 3 times within 1m',
};
