// io latency > D
import { condition } from "./spec.js";

export const ioLatency = condition({
  id: "io-latency",
  syntax: "io latency > D",
  holds: "a block I/O request has been in flight longer than D",
  head: "io",
  pattern: [{ word: "latency" }],
  threshold: true,
  subject: "block request",
  watches: () => "block I/O requests",
  cost: { class: "low", detail: "two events per block request; a scan of the requests in flight only when one could cross its threshold" },
  caveats: [
    "pid, comm and uid are the task's that dispatched the request to the driver: the submitter when it goes straight to the device, else an I/O scheduler's or plug flush's (often a kworker such as kblockd)",
    "a device is the disk that serves the requests: device-mapper (LVM, dm-crypt), md RAID and zram devices issue none of their own, so name the disk below them",
    "a partial completion of a request ends its timing",
  ],
  pausesCountable: true,
  example: 'when io latency > 5s on device "vda"',
  needs: () => ({
    kind: "inflight",
    table: "io",
    start: { on: "block-issue" },
    stops: [
      { on: "block-complete", reason: "the request completed" },
      { on: "block-requeue", reason: "the request went back to the queue (it is timed again when reissued)" },
    ],
  }),
});
