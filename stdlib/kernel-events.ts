// The names of `event NAME`, numbered in this order.
export const KERNEL_EVENTS = ["softlockup", "hung_task", "rcu_stall", "oom_kill", "nmi_backtrace", "warn", "oops", "panic", "vm_resumed"] as const;
export type KernelEvent = (typeof KERNEL_EVENTS)[number];
