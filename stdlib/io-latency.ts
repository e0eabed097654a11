// io latency > D
import type { ConditionEntry } from "../src/stdlib.js";

export const ioLatency: ConditionEntry = {
  id: "io-latency",
  syntax: "io latency > D",
  holds: "a block I/O request has been in flight longer than D",
  head: "io",
  pattern: [{ word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu", "device"],
  probes: ['kernel.trace("block:block_rq_issue")', 'kernel.trace("block:block_rq_complete")', "timer.ms(scan period)"],
  kernels: "block_rq_issue lost its request_queue argument in 5.11; the disk is rq->q->disk since 5.17",
  debuginfo: false,
  cost: { class: "low", detail: "two tracepoint hits per block request; one scan per period" },
  example: 'when io latency > 5s on device "vda"',
};
