// message "TEXT"
import type { ConditionEntry } from "../src/stdlib.js";
import { CONSOLE_PROBE, consoleLineContains, CURRENT_TASK } from "./common.js";

export const message: ConditionEntry = {
  id: "message",
  syntax: 'message "TEXT"',
  holds: "the guest kernel logged a message containing TEXT (qtrip's own lines excepted); pid, comm etc. are those of the task that printed it to the console",
  head: "message",
  pattern: [{ string: "text" }],
  threshold: false,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kernel.trace("printk:console")'],
  kernels: "3.3+",
  debuginfo: false,
  cost: { class: "low", detail: "one tracepoint hit per kernel log message" },
  example: 'when message "blk_update_request: I/O error" 3 times within 1m',
  codegen: ({ strings }) => ({
    kind: "event",
    probe: CONSOLE_PROBE,
    test: () => consoleLineContains(strings.text),
    attributes: CURRENT_TASK,
  }),
};
