// SPDX-License-Identifier: GPL-2.0
/* qtrip-bpf-crash: loads qtrip's BPF program (qtrip-crash.bpf.c, embedded by
 * bpftool's skeleton), sets the channel and the VMM, attaches it and waits.
 *
 * Why a loader of our own and not the distribution's bpftool: Debian 12's
 * bpftool 7.1 has no way to attach a tracing (fentry) program (`autoattach`
 * came in 7.3), nor any to set a program's read-only globals before load. This
 * one is static (libbpf, libelf, zlib): nothing to install on the hypervisor.
 * x86-64 only, like port I/O.
 *
 * Nothing is pinned: the attachment lives as long as this process. Whatever
 * way it ends (signal, the VMM's exit, the trip with no crash kernel, even
 * SIGKILL) the kernel detaches and frees the program.
 *
 *   qtrip-bpf-crash --port P --value V (--pid TGID [--start TICKS] | --any) [--label TEXT]
 *   qtrip-bpf-crash --check        (exits 0: this file can run here)
 *
 * --start is the VMM's start time (field 22 of /proc/PID/stat) when the script
 * checked it: a pid reused by another process since then is refused.
 *
 * Exit: 0 disarmed (signal, or the VMM exited); 1 refused or failed to arm;
 * 3 the channel write came with no crash kernel loaded (disarmed, host up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "qtrip-crash.skel.h"

typedef __u32 u32;
#include "qtrip-crash.h"

static const char *label = "qtrip";
static int trip_status;

/* One line on stdout and, when it can be opened, in the kernel's log: a dump then tells the story. */
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	FILE *kmsg;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("qtrip: %s\n", line);
	fflush(stdout);
	kmsg = fopen("/dev/kmsg", "w");
	if (kmsg) {
		fprintf(kmsg, "qtrip: %s: %s\n", label, line);
		fclose(kmsg);
	}
}

static int libbpf_lines(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("qtrip: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int crash_kernel_loaded(void)
{
	FILE *f = fopen("/sys/kernel/kexec_crash_loaded", "r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == '1';
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct qtrip_event *e = data;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	if (e->reason == QTRIP_NO_CRASH_KERNEL)
		say("TRIP by thread %u of pid %u, but no crash kernel is loaded any more: NOT crashing the host (no dump could be taken); disarmed",
		    e->tid, e->tgid);
	else
		say("TRIP by thread %u of pid %u, but crash_kexec() returned without crashing (crash kernel unloaded at that instant, or another CPU panicking); disarmed",
		    e->tid, e->tgid);
	trip_status = 3;
	return 1; /* stop polling */
}

/* Field 22 of /proc/PID/stat (after the command name, which may hold spaces and parentheses). */
static unsigned long long start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

static unsigned long number(const char *option, const char *text, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 0);
	if (errno || !*text || *end || n > max) {
		fprintf(stderr, "qtrip: %s: not a number up to %lu: %s\n", option, max, text);
		exit(1);
	}
	return n;
}

int main(int argc, char **argv)
{
	long port = -1, value = -1, pid = -1;
	unsigned long long start = 0;
	struct qtrip_crash_bpf *skel;
	struct ring_buffer *rb = NULL;
	struct pollfd fds[3];
	int nfds = 0, err, i;
	sigset_t signals;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--check"))
			return 0;
		if (!strcmp(arg, "--any")) { pid = 0; continue; }
		if (!next) goto usage;
		if (!strcmp(arg, "--port")) port = number(arg, next, 0xffff);
		else if (!strcmp(arg, "--value")) value = number(arg, next, 0xff);
		else if (!strcmp(arg, "--pid")) pid = number(arg, next, 0x7fffffff);
		else if (!strcmp(arg, "--start")) start = number(arg, next, (unsigned long)-1);
		else if (!strcmp(arg, "--label")) label = next;
		else goto usage;
		i++;
	}
	if (port < 0 || value < 0 || pid < 0)
		goto usage;

	/* Signals are read from a descriptor, between polls: nothing runs in a handler. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	/* Started by a script: if the script dies, so does the attachment. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fds[nfds++] = (struct pollfd){ .fd = signalfd(-1, &signals, SFD_CLOEXEC), .events = POLLIN };

	if (pid > 0) {
		/* The VMM's exit ends the watch; a pidfd cannot be fooled by a reused pid. */
		int pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);

		if (pidfd < 0) {
			fprintf(stderr, "qtrip: the VMM process %ld: %s\n", pid, strerror(errno));
			return 1;
		}
		if (start && start_time(pid) != start) {
			fprintf(stderr, "qtrip: the VMM process %ld is not the one checked (it exited, and its pid was reused): not arming\n", pid);
			return 1;
		}
		fds[nfds++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	}
	if (!crash_kernel_loaded()) {
		fprintf(stderr, "qtrip: no crash kernel is loaded (/sys/kernel/kexec_crash_loaded is not 1), so a trip would leave no dump: not arming\n");
		return 1;
	}

	libbpf_set_print(libbpf_lines);
	skel = qtrip_crash_bpf__open();
	if (!skel) {
		fprintf(stderr, "qtrip: cannot open the BPF program: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->vmm_tgid = pid;
	skel->rodata->channel_port = port;
	skel->rodata->channel_value = value;
	err = qtrip_crash_bpf__load(skel);
	if (!err)
		err = qtrip_crash_bpf__attach(skel);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
		err = rb ? 0 : -errno;
	}
	if (err) {
		fprintf(stderr, "qtrip: cannot load and attach the BPF program at kvm_fast_pio: %s\n", strerror(-err));
		qtrip_crash_bpf__destroy(skel);
		return 1;
	}
	fds[nfds++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN };

	if (pid > 0)
		say("armed: a write of byte 0x%02lx to port 0x%lx by VMM pid %ld crashes this host into kdump", value, port, pid);
	else
		say("armed: a write of byte 0x%02lx to port 0x%lx by ANY guest crashes this host into kdump", value, port);

	for (;;) {
		if (poll(fds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents) {
			struct signalfd_siginfo si;

			if (read(fds[0].fd, &si, sizeof(si)) == sizeof(si))
				say("disarmed: signal %s", strsignal(si.ssi_signo));
			break;
		}
		if (pid > 0 && fds[1].revents) {
			say("disarmed: the VMM (pid %ld) exited", pid);
			break;
		}
		if (ring_buffer__consume(rb) < 0 || trip_status)
			break;
	}
	ring_buffer__free(rb);
	qtrip_crash_bpf__destroy(skel);
	return trip_status;

usage:
	fprintf(stderr, "usage: qtrip-bpf-crash --port P --value V (--pid TGID [--start TICKS] | --any) [--label TEXT]\n");
	return 1;
}
