// message "TEXT"
import { condition } from "./spec.js";

export const message = condition({
  id: "message",
  syntax: 'message "TEXT"',
  holds: "the guest kernel logged a message containing TEXT (qtrip's own lines excepted); pid, comm etc. are those of the task that logged it; lines the console does not print (below its loglevel) count too",
  head: "message",
  pattern: [{ string: "text" }],
  threshold: false,
  subject: "current task",
  watches: ({ strings }) => `kernel log lines containing ${JSON.stringify(strings.text)}`,
  cost: { class: "low", detail: "one event per kernel log message" },
  caveats: [],
  example: 'when message "blk_update_request: I/O error" 3 times within 1m',
  needs: ({ strings }) => ({ kind: "event", at: { on: "console-line" }, select: [{ kind: "line-contains", texts: [strings.text] }] }),
});
