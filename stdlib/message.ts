// message "TEXT"
import { condition } from "./spec.js";

export const message = condition({
  id: "message",
  syntax: 'message "TEXT"',
  holds: "the guest kernel logged a message containing TEXT (qtrip's own lines excepted); pid, comm etc. are those of the task that logged it; lines the console does not print (below its loglevel) count too",
  head: "message",
  pattern: [{ string: "text" }],
  threshold: false,
  subject: "logging task",
  watches: ({ strings }) => `kernel log lines containing ${JSON.stringify(strings.text)}`,
  cost: { class: "low", detail: "one event per kernel log message" },
  caveats: [
    "an unprivileged guest user can put words of their choice into kernel log lines (a program's name and its file's name are logged when it crashes), so this rule can be tripped by any user of the guest; on context \"kernel\" keeps only the lines the kernel logged from a kernel thread or an interrupt",
  ],
  example: 'when message "blk_update_request: I/O error" 3 times within 1m',
  needs: ({ strings }) => ({ kind: "event", at: { on: "console-line" }, select: [{ kind: "line-contains", texts: [strings.text] }] }),
});
