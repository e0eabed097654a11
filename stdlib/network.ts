// The guest's network: TCP's retransmissions and resets, a device's transmit
// watchdog, and a device that sends but hears nothing back.
//   event tcp_retransmit
//   event tcp_reset [sent | received]
//   event tx_timeout
//   net stall > D
import { condition, type Selection } from "./spec.js";

/** How the guest's TCP filters read: what is local and what is remote, whichever side sent. */
const PORTS_CAVEAT = "local_port is the guest's own end of the connection, remote_port its peer's, whichever way the segment went";

export const tcpRetransmit = condition({
  id: "tcp-retransmit",
  syntax: "event tcp_retransmit",
  holds: "the guest's TCP retransmitted a segment (a timeout, a fast retransmit, a SYN sent again): what it sent was not acknowledged in time",
  head: "event",
  pattern: [{ word: "tcp_retransmit" }],
  threshold: false,
  subject: "TCP connection",
  watches: () => "the guest's TCP retransmissions (tcp:tcp_retransmit_skb)",
  cost: { class: "low", detail: "one event per retransmitted segment: none on a healthy network" },
  caveats: [
    PORTS_CAVEAT,
    "a SYN-ACK the guest's listening socket sends again is not a retransmission here (tcp:tcp_retransmit_synack, not watched)",
    "some retransmissions are normal on any network: a lost packet now and then. Count them (`N times within D`) to catch a storm rather than one",
  ],
  example: "when event tcp_retransmit on remote_port 3306 5 times within 10s",
  needs: () => ({ kind: "event", at: { on: "tcp-segment-retransmitted" } }),
});

export const tcpReset = condition({
  id: "tcp-reset",
  syntax: "event tcp_reset [sent | received]",
  holds:
    "a TCP connection of the guest was reset: the guest sent a reset (`sent`), or received one from its peer (`received`); without either word, both count",
  head: "event",
  pattern: [{ word: "tcp_reset" }, { names: "direction", arg: "direction", optional: true, single: true }],
  threshold: false,
  subject: "TCP connection",
  watches: ({ names }) => {
    const direction = names.direction?.[0]?.name;
    return direction === "sent" ? "the TCP resets the guest sends" : direction === "received" ? "the TCP resets the guest receives from its peers" : "the TCP resets the guest sends and receives";
  },
  cost: { class: "low", detail: "one event per reset sent or received: none on a healthy network" },
  caveats: [
    PORTS_CAVEAT,
    "a reset the guest sends in reply to a segment for no socket (a connection to a closed port) is seen only from Linux 6.10: before, the kernel traces only the resets of an existing connection (an application aborting it: close() with unread data, SO_LINGER 0), and on IPv6 those of an existing socket's replies",
    "received: a reset the guest accepts for one of its connections (in its window); resets it ignores as out of window do not count",
  ],
  example: "when event tcp_reset on remote_port 5432",
  needs: ({ names }) => {
    const direction = names.direction?.[0]?.name;
    return { kind: "event", at: { on: "tcp-connection-reset", ...(direction === "sent" || direction === "received" ? { direction } : {}) } };
  },
});

export const txTimeout = condition({
  id: "tx-timeout",
  syntax: "event tx_timeout",
  holds:
    "a network device's transmit watchdog fired: a transmit queue of the device was stopped, with packets waiting, for longer than the device's watchdog time (the kernel logs `NETDEV WATCHDOG: … transmit queue N timed out`)",
  head: "event",
  pattern: [{ word: "tx_timeout" }],
  threshold: false,
  subject: "network device",
  watches: () => "the transmit watchdog of every network device (net:net_dev_xmit_timeout)",
  cost: { class: "low", detail: "one event per watchdog timeout; the watchdog's own timer is the kernel's (every few seconds while a device is up), not qtrip's" },
  caveats: [
    "a driver without a transmit watchdog (no ndo_tx_timeout: loopback, most virtual devices; virtio_net has one in 6.1 and 6.12 but not in 5.10; e1000 has one) never reports one",
    "the watchdog runs every watchdog_timeo (5 s for e1000 and virtio_net), to the whole second: the trip comes at its first run once the queue has been stopped that long, 5 to about 11 s after it stopped",
  ],
  example: 'when event tx_timeout on device "eth0"',
  needs: () => ({ kind: "event", at: { on: "net-watchdog-fired" } }),
});

export const netStall = condition({
  id: "net-stall",
  syntax: "net stall > D",
  holds:
    "a network device of the guest transmitted and has received nothing since, for longer than D: its transmit side works, its receive side (or the network behind it) does not",
  head: "net",
  pattern: [{ word: "stall" }],
  threshold: true,
  leastThreshold: { nanoseconds: 1_000_000n, why: "a reply takes a round trip: on a healthy network up to milliseconds, so a shorter silence is no stall" },
  subject: "network device",
  watches: () => "each network device's transmits, and when it last received (its first transmit since then is stamped, the stamp cleared when a packet comes in)",
  tripsWhen: (limit) =>
    `at a transmit of the device, when its first transmit since it last received is ${limit} old: seen at the device's next transmit while the stall lasts (a device that stops sending too is not seen until it sends again)`,
  cost: {
    class: "low",
    detail: "a few loads and at most one store per packet sent or received (lock-free, no table lock); no timer, no wake-up: nothing on an idle guest",
  },
  caveats: [
    "a device that only sends by design (a syslog or metrics stream over UDP with no replies, a one-way multicast sender) trips it: filter on the device that should hear back",
    "packets a driver hands to XDP and drops or redirects there never reach the stack, so they do not count as received",
    "loopback (lo) receives all it sends at once: it never stalls",
  ],
  example: 'when net stall > 2s on device "eth0"',
  pausesUncountable:
    "the silence is measured on qtrip's clock, which leaves out the hypervisor's pauses of the whole guest (nothing is heard while nothing runs); counting them in is not offered for it: 'event vm_resumed' catches the resume",
  needs: () => ({ kind: "event", at: { on: "net-transmit" }, select: [{ kind: "receive-silence-exceeds" }] }),
});

/**
 * The transmit watchdog's line where the kernel has no net:net_dev_xmit_timeout (before 5.6):
 * "NETDEV WATCHDOG: NAME (DRIVER): transmit queue N timed out" (WARN_ONCE in dev_watchdog()),
 * logged from the watchdog's timer: a user's words never start a line so.
 */
export const WATCHDOG_LINE: Selection[] = [
  { kind: "line-starts", texts: ["NETDEV WATCHDOG: "] },
  { kind: "logged-from", context: "kernel" },
];
