/*
 * qt-net: the network side of qtrip's real-guest tests, over loopback or the guest's NIC.
 * Each step writes a marker (its number, from base:V on, as qt-trigger does) as it starts:
 *
 *   base:V              markers of the following steps are V+1, V+2, ...
 *   refused:PORT        connect to 127.0.0.1:PORT where nothing listens: the guest's TCP answers its
 *                       own SYN with a reset (sent for no socket) and the connecting socket receives it
 *   abort:PORT          a connection to a listener on 127.0.0.1:PORT; the accepted end is closed with
 *                       SO_LINGER 0: it sends a reset (an active one), the connecting end receives it
 *   peerabort:PORT      the same, but the connecting end aborts: the accepted end (local PORT) receives
 *   clean:PORT          a connection to a listener on 127.0.0.1:PORT, a message each way, both ends
 *                       closed after reading all: no reset, no retransmission
 *   synretry:PORT       a listener on 127.0.0.1:PORT with a full accept queue (backlog 0, one
 *                       connection not accepted) drops a second connection's SYN: the SYN is sent
 *                       again after the initial retransmission timeout (1 s); 1.5 s later, all closed
 *   udp:ADDR:PORT:MSxN  N UDP datagrams to ADDR:PORT, one every MS milliseconds
 *   tcp:ADDR:PORT:MSxN  N connection attempts to ADDR:PORT, one every MS milliseconds (each waits
 *                       at most MS for its answer)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MARKER_PORT 0x378

static unsigned marker_base, steps;

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "qt-net: %s: %s: %s\n", what, arg, strerror(errno));
	exit(2);
}

static void step_starts(void)
{
	outb((marker_base + ++steps) & 0xff, MARKER_PORT);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static struct sockaddr_in address(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("not an IPv4 address", host);
	return a;
}

static int listener(int port, int backlog)
{
	struct sockaddr_in a = address("127.0.0.1", port);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, backlog) < 0)
		die("listen", "127.0.0.1");
	return s;
}

static int connected(const char *host, int port)
{
	struct sockaddr_in a = address(host, port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect", host);
	return s;
}

static void refused(int port)
{
	struct sockaddr_in a = address("127.0.0.1", port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	step_starts();
	if (connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno != ECONNREFUSED)
		die("connect was not refused", "127.0.0.1");
	close(s);
}

/* A connection to PORT, one end closed with SO_LINGER 0 (the accepted one, or the connecting one). */
static void aborted(int port, int accepted_aborts)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	int l = listener(port, 1), c = connected("127.0.0.1", port), a = accept(l, NULL, NULL);
	int aborting = accepted_aborts ? a : c, other = accepted_aborts ? c : a;
	char byte;
	step_starts();
	setsockopt(aborting, SOL_SOCKET, SO_LINGER, &now, sizeof now);
	close(aborting);
	if (read(other, &byte, 1) >= 0 || errno != ECONNRESET)
		die("no reset received", "127.0.0.1");
	close(other);
	close(l);
}

static void clean(int port)
{
	int l = listener(port, 1), c = connected("127.0.0.1", port), a = accept(l, NULL, NULL);
	char byte;
	step_starts();
	if (write(c, "q", 1) != 1 || read(a, &byte, 1) != 1 || write(a, "t", 1) != 1 || read(c, &byte, 1) != 1)
		die("exchange", "127.0.0.1");
	shutdown(c, SHUT_WR);
	if (read(a, &byte, 1) != 0)
		die("no end of stream", "127.0.0.1");
	close(a);
	if (read(c, &byte, 1) != 0)
		die("no end of stream", "127.0.0.1");
	close(c);
	close(l);
	sleep_ms(100);
}

static void synretry(int port)
{
	struct sockaddr_in a = address("127.0.0.1", port);
	int l = listener(port, 0), first = connected("127.0.0.1", port), second = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	step_starts();
	if (connect(second, (struct sockaddr *)&a, sizeof a) == 0 || errno != EINPROGRESS)
		die("the second connection was not left waiting", "127.0.0.1");
	sleep_ms(1500);
	close(second);
	close(first);
	close(l);
}

static void repeat(const char *spec, int type)
{
	char host[64];
	int port, ms, n;
	if (sscanf(spec, "%63[^:]:%d:%dx%d", host, &port, &ms, &n) != 4)
		die("not ADDR:PORT:MSxN", spec);
	struct sockaddr_in a = address(host, port);
	step_starts();
	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, type | SOCK_NONBLOCK, 0);
		if (type == SOCK_DGRAM) {
			sendto(s, "qtrip", 5, 0, (struct sockaddr *)&a, sizeof a);
			sleep_ms(ms);
		} else {
			struct pollfd p = { .fd = s, .events = POLLOUT };
			connect(s, (struct sockaddr *)&a, sizeof a);
			poll(&p, 1, ms);
		}
		close(s);
	}
}

int main(int argc, char **argv)
{
	if (ioperm(MARKER_PORT, 1, 1) < 0)
		die("ioperm", "0x378");
	for (int i = 1; i < argc; i++) {
		char *arg = strchr(argv[i], ':');
		if (!arg)
			die("not STEP:ARG", argv[i]);
		*arg++ = '\0';
		if (!strcmp(argv[i], "base"))
			marker_base = strtoul(arg, NULL, 0), steps = 0;
		else if (!strcmp(argv[i], "refused"))
			refused(atoi(arg));
		else if (!strcmp(argv[i], "abort"))
			aborted(atoi(arg), 1);
		else if (!strcmp(argv[i], "peerabort"))
			aborted(atoi(arg), 0);
		else if (!strcmp(argv[i], "clean"))
			clean(atoi(arg));
		else if (!strcmp(argv[i], "synretry"))
			synretry(atoi(arg));
		else if (!strcmp(argv[i], "udp"))
			repeat(arg, SOCK_DGRAM);
		else if (!strcmp(argv[i], "tcp"))
			repeat(arg, SOCK_STREAM);
		else
			die("unknown step", argv[i]);
	}
	return 0;
}
