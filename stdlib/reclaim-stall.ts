// reclaim stall > D
// A task that has been freeing or compacting memory for an allocation of its
// own (direct reclaim, direct compaction) for longer than D, seen while it
// still does: what a guest's "allocation stall" looks like from inside.
import { THREAD_ENDS } from "./common.js";
import { condition } from "./spec.js";

export const reclaimStall = condition({
  id: "reclaim-stall",
  syntax: "reclaim stall > D",
  holds: "a task has been in direct reclaim or direct compaction (freeing or compacting memory for an allocation of its own) longer than D, detected while it still is",
  head: "reclaim",
  pattern: [{ word: "stall" }],
  threshold: true,
  subject: "current task",
  watches: () => "direct reclaim (the page allocator's, and a memory cgroup's at its limit) and direct compaction",
  cost: {
    class: "low",
    detail: "two events per direct reclaim or direct compaction, none while memory is plentiful (a compaction's are a kprobe and a return probe); a scan of those in flight only when one could cross its threshold",
  },
  caveats: [
    "a memory cgroup's reclaim counts, whoever does it: the task charging past the cgroup's memory.high or memory.max, a task writing its memory.high, memory.max or memory.reclaim, a kworker reclaiming for it (filter on pid or comm to leave them out)",
    "waits before reclaim begins are not timed: throttling while kswapd catches up, memory.high's penalty sleep, the OOM killer",
    "kswapd's and kcompactd's background work is not timed, nor node reclaim (vm.zone_reclaim_mode), cgroup v1 soft-limit reclaim, or compaction asked for through /proc/sys/vm/compact_memory",
    "the time includes what the task spends off its CPU meanwhile (waiting for writeback, throttled, preempted)",
  ],
  pausesCountable: true,
  example: 'when reclaim stall > 1s on comm "qemu-kvm"',
  needs: () => ({
    kind: "inflight",
    table: "reclaim",
    start: { on: "reclaim-begins" },
    stops: [{ on: "reclaim-ends", reason: "the reclaim or the compaction returned" }, ...THREAD_ENDS],
  }),
});
