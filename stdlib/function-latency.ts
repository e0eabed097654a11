// function "[MODULE:]NAME" latency > D
import { THREAD_ENDS } from "./common.js";
import { condition } from "./spec.js";

export const functionLatency = condition({
  id: "function-latency",
  syntax: 'function "[MODULE:]NAME" latency > D',
  holds: "a call of the kernel function NAME (in MODULE, if given) has been running longer than D, detected while it still runs",
  head: "function",
  pattern: [{ string: "function", symbol: true }, { word: "latency" }],
  threshold: true,
  subject: "current task",
  watches: ({ strings }) => `calls of the kernel function ${strings.function}`,
  cost: { class: "medium", detail: "an entry and a return event per call of NAME" },
  caveats: [
    "the function must not be inlined or blacklisted for kprobes",
    "NAME is found where the guest's kernel has it when the script loads: in the kernel image, else in a loaded module (ext4 is a module on Debian, built in elsewhere)",
    "MODULE:NAME is probed in MODULE, and in the kernel image where MODULE is built in; armed before MODULE loads, it is probed once MODULE loads",
    "a function the script cannot probe is said in the kernel log when it loads: its rules cannot trip",
    "recursion of NAME in one thread is timed from the innermost call",
    "a call that finds all 1024 return-probe instances in use is not timed: it cannot trip, and the script says so in the kernel log",
  ],
  pausesCountable: true,
  example: 'when function "ext4:ext4_sync_file" latency > 1s',
  needs: ({ strings }) => ({
    kind: "inflight",
    table: `function:${strings.function}`,
    start: { on: "function-entry", symbol: strings.function },
    stops: [{ on: "function-return", symbol: strings.function, reason: "the function returned" }, ...THREAD_ENDS],
  }),
});
