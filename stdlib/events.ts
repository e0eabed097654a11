// The events of `event NAME`, numbered in this order.
export const EVENTS = ["softlockup", "hung_task", "rcu_stall", "oom_kill", "nmi_backtrace", "warn", "oops", "panic"] as const;
