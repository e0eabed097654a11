// The guest's network: the ports of a TCP connection as the tcp tracepoints
// give it, and each device's silence since it last received.
import type { Fragment } from "../fragment.js";
import { lineStart } from "./kernel-facts.js";
import { pauses } from "./pauses.js";

/**
 * A TCP connection's ports, the guest's own end local, read as the tcp tracepoints read them: from a
 * full socket's inet_sport and inet_dport (an aborting socket is closed, its port released, skc_num 0,
 * before the reset goes out); for a reset sent for no socket or for a time-wait or request socket (Linux
 * 6.10+), from the segment it answers, whose destination is the guest's end; else from the sock_common
 * a time-wait or request socket shares.
 */
export const tcpPorts: Fragment = {
  name: "tcp ports",
  c: String.raw`#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/sock.h>`,
  stap: String.raw`function qt_tcp_port:long(sk:long, skb:long, local:long) %{ /* pure */
	const struct sock *sk = (const struct sock *)(uintptr_t)STAP_ARG_sk;
	const struct sk_buff *skb = (const struct sk_buff *)(uintptr_t)STAP_ARG_skb;
	if (sk && sk_fullsock(sk)) {
		const struct inet_sock *inet = inet_sk(sk);
		STAP_RETURN(ntohs(STAP_ARG_local ? inet->inet_sport : inet->inet_dport));
	}
	if (skb) {
		const struct tcphdr *th = (const struct tcphdr *)skb->data;
		STAP_RETURN(ntohs(STAP_ARG_local ? th->dest : th->source));
	}
	if (sk)
		STAP_RETURN(STAP_ARG_local ? sk->__sk_common.skc_num : ntohs(sk->__sk_common.skc_dport));
	STAP_RETURN(-1);
%}`,
};

/**
 * Each device's first transmit since it last received, in a small table of slots (by ifindex):
 * one 64-bit word a slot, the stamp (ms) and the device's ifindex packed together, so that a
 * reader never pairs one device's index with another's stamp. A receive clears its device's
 * slot; a transmit stamps an empty slot (or one another device holds: that device's silence
 * restarts, which delays its trip, never advances one). Lock-free: no SystemTap global, no
 * table lock on the packet path; no timer. Stamped on qtrip's clock: a pause of the whole guest
 * is no silence (the device hears nothing while nothing runs).
 */
export const receiveSilence: Fragment = {
  name: "network receive silence",
  requires: [pauses],
  probes: ['kernel.trace("net:netif_receive_skb")'],
  c: String.raw`#include <linux/atomic.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#define QT_NET_SLOTS 256
#define QT_NET_INDEX_BITS 24
#define QT_NET_INDEX(v) ((v) & ((1ULL << QT_NET_INDEX_BITS) - 1))
static atomic64_t qt_net_first_tx[QT_NET_SLOTS]; /* 0: received since its last transmit */

static inline u64 qt_net_now_ms(void)
{
	return qt_clock() / NSEC_PER_MSEC;
}`,
  stap: String.raw`# Any packet a device hands to the stack ends its silence (the device's slot is cleared).
probe kernel.trace("net:netif_receive_skb") {
	qt_net_received($skb)
}

# Not pure: SystemTap drops a pure call whose result is unused, and with it this probe.
function qt_net_received(skb:long) %{
	const struct sk_buff *skb = (const struct sk_buff *)(uintptr_t)STAP_ARG_skb;
	u64 index, v;
	atomic64_t *slot;
	if (!skb || !skb->dev)
		return;
	index = QT_NET_INDEX((u64)skb->dev->ifindex);
	slot = &qt_net_first_tx[index % QT_NET_SLOTS];
	v = atomic64_read(slot);
	if (v && QT_NET_INDEX(v) == index)
		atomic64_cmpxchg(slot, v, 0);
%}

/* ns since the device's first transmit after it last received (0: this is that first transmit, stamped here: not pure). */
function qt_net_silence:long(dev:long) %{
	const struct net_device *dev = (const struct net_device *)(uintptr_t)STAP_ARG_dev;
	u64 index, v, now = qt_net_now_ms();
	atomic64_t *slot;
	if (!dev)
		STAP_RETURN(0);
	index = QT_NET_INDEX((u64)dev->ifindex);
	slot = &qt_net_first_tx[index % QT_NET_SLOTS];
	v = atomic64_read(slot);
	if (v && QT_NET_INDEX(v) == index) {
		u64 since = v >> QT_NET_INDEX_BITS;
		STAP_RETURN(now > since ? (now - since) * NSEC_PER_MSEC : 0);
	}
	atomic64_cmpxchg(slot, v, (now << QT_NET_INDEX_BITS) | index);
	STAP_RETURN(0);
%}`,
};

/**
 * The device named by the transmit watchdog's line before 5.6 ("NETDEV WATCHDOG: NAME (DRIVER):
 * transmit queue N timed out"): the text between the prefix and " (", at most IFNAMSIZ - 1 bytes;
 * "" when the line is not that one.
 */
export const watchdogDevice: Fragment = {
  name: "watchdog device",
  requires: [lineStart],
  c: String.raw`#include <linux/if.h>`,
  stap: String.raw`function qt_watchdog_device:string(text:long, len:long) %{ /* pure */
	static const char prefix[] = "NETDEV WATCHDOG: ";
	const char *text = (const char *)(uintptr_t)STAP_ARG_text;
	long len = STAP_ARG_len, n = 0;
	STAP_RETVALUE[0] = '\0';
	if (!qt_line_starts(text, len, prefix))
		return;
	while (len >= 2 && text[0] == KERN_SOH_ASCII && text[1]) {
		text += 2;
		len -= 2;
	}
	text += sizeof prefix - 1;
	len -= sizeof prefix - 1;
	while (n < len && n < IFNAMSIZ - 1 && text[n] != ' ' && text[n] != '\0')
		n++;
	if (n < len && text[n] == ' ') {
		memcpy(STAP_RETVALUE, text, n);
		STAP_RETVALUE[n] = '\0';
	}
%}`,
};
