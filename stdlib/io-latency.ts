// io latency > D
import type { ConditionEntry } from "../src/stdlib.js";
import { CURRENT_TASK } from "./common.js";

export const ioLatency: ConditionEntry = {
  id: "io-latency",
  syntax: "io latency > D",
  holds: "a block I/O request has been in flight longer than D",
  head: "io",
  pattern: [{ word: "latency" }],
  threshold: true,
  attributes: ["pid", "tid", "comm", "uid", "cpu", "device"],
  probes: ['kernel.trace("block:block_rq_issue")', 'kernel.trace("block:block_rq_complete")', 'kernel.trace("block:block_rq_requeue")', "timer.ms(scan period)"],
  kernels: "block_rq_issue lost its request_queue argument in 5.11; the disk is rq->q->disk since 5.17",
  debuginfo: false,
  cost: { class: "low", detail: "two tracepoint hits per block request; one scan per period" },
  example: 'when io latency > 5s on device "vda"',
  codegen: () => ({
    kind: "inflight",
    table: "io",
    start: { probes: ['kernel.trace("block:block_rq_issue")'], key: "$rq" },
    stops: [
      { probe: 'kernel.trace("block:block_rq_complete")', key: "$rq", reason: "the request completed" },
      { probe: 'kernel.trace("block:block_rq_requeue")', key: "$rq", reason: "the request went back to the queue (it is timed again when reissued)" },
    ],
    // The disk is rq->q->disk since 5.17, rq->rq_disk before. The task is the one that issued the request.
    attributes: { ...CURRENT_TASK, device: "kernel_string(@choose_defined($rq->q->disk, $rq->rq_disk)->disk_name)" },
  }),
};
