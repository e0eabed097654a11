// The names of `event NAME`, numbered in this order.
export const KERNEL_EVENTS = ["softlockup", "hung_task", "rcu_stall", "oom_kill", "nmi_backtrace", "warn", "oops", "panic", "vm_resumed"] as const;
export type KernelEvent = (typeof KERNEL_EVENTS)[number];
/** The network's `event NAME`s, each a condition of its own (stdlib/network.ts): named here for the unknown event's note. */
export const NETWORK_EVENTS = ["tcp_retransmit", "tcp_reset", "tx_timeout"] as const;
