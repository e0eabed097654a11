// function "NAME" latency > D
import { stapString } from "../src/codegen/stap-syntax.js";
import type { ConditionEntry } from "../src/stdlib.js";
import { CURRENT_TASK, THREAD_EXIT_STOP } from "./common.js";

export const functionLatency: ConditionEntry = {
  id: "function-latency",
  syntax: 'function "[MODULE:]NAME" latency > D',
  holds: "a call of the kernel function NAME (in MODULE, if given) has been running longer than D, detected while it still runs",
  head: "function",
  pattern: [{ string: "function", symbol: true }, { word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kprobe.function("NAME") or kprobe.module("MODULE").function("NAME")', "the same .return", 'kernel.trace("sched:sched_process_exit")', "timer.ms(scan period)"],
  kernels: "any; the function must not be inlined or blacklisted for kprobes; a function of a module (e.g. ext4 on Debian) is written MODULE:NAME; recursion of NAME in one thread is timed from the innermost call",
  debuginfo: false,
  cost: { class: "medium", detail: "a kprobe and a kretprobe hit per call of NAME" },
  example: 'when function "ext4:ext4_sync_file" latency > 1s',
  codegen: ({ strings }) => {
    // "MODULE:NAME" probes a module's function; a plain NAME, the kernel's own (vmlinux).
    const [module, name] = strings.function.includes(":") ? strings.function.split(":") : [undefined, strings.function];
    const entry = module ? `kprobe.module(${stapString(module)}).function(${stapString(name)})` : `kprobe.function(${stapString(name)})`;
    return {
      kind: "inflight",
      table: `function:${strings.function}`,
      start: { probes: [entry], key: "tid()" },
      stops: [
        // Enough return-probe instances that concurrent calls are not missed: a missed return would look like a call still running.
        { probe: `${entry}.return.maxactive(1024)`, key: "tid()", reason: "the function returned" },
        THREAD_EXIT_STOP,
      ],
      attributes: CURRENT_TASK,
    };
  },
};
