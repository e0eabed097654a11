// signal SIGNAME
import { condition } from "./spec.js";

export const signal = condition({
  id: "signal",
  syntax: "signal SIGNAME",
  holds: "the signal was sent to a task and queued for it (pid, comm etc. are the receiver's; the trip happens in the sender)",
  head: "signal",
  pattern: [{ names: "signal", arg: "signal", single: true }],
  threshold: false,
  subject: "receiving task",
  watches: ({ names }) => `${names.signal[0].name} signals sent to tasks`,
  cost: { class: "low", detail: "one event per signal sent" },
  // The signal as sent, not as delivered: a fatal signal without a handler (SIGTERM,
  // SIGINT...) kills the group with SIGKILL, which delivery would then report.
  caveats: ["the signal as sent: an unhandled SIGTERM is not a SIGKILL"],
  example: 'when signal SIGKILL on comm "mysqld"',
  needs: ({ names }) => ({ kind: "event", at: { on: "signal-sent" }, select: [{ kind: "signal-is", number: names.signal[0].number }] }),
});
