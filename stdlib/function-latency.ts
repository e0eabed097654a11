// function "NAME" latency > D
import type { ConditionEntry } from "../src/stdlib.js";

export const functionLatency: ConditionEntry = {
  id: "function-latency",
  syntax: 'function "NAME" latency > D',
  holds: "a call of the kernel function NAME has been running longer than D",
  head: "function",
  pattern: [{ string: "function", symbol: true }, { word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu"],
  probes: ['kprobe.function("NAME")', 'kprobe.function("NAME").return', "timer.ms(scan period)"],
  kernels: "any; the function must not be inlined; needs the kernel's symbol table (/proc/kallsyms)",
  debuginfo: false,
  cost: { class: "medium", detail: "a kprobe and a kretprobe hit per call of NAME" },
  example: 'when function "ext4_sync_file" latency > 1s',
};
