/*
 * thread-stop: stops one thread of another process and lets it go again, on command, the
 * other threads running on: a host that does not run one vCPU's thread
 * (test/e2e/support/qemu.ts).
 *
 *   thread-stop TID      then, one per line on stdin: "stop", "go"; end of input (after "go") detaches
 *
 * A signal would stop the whole process (SIGSTOP is process-wide): PTRACE_SEIZE and
 * PTRACE_INTERRUPT stop that thread alone, PTRACE_CONT lets it run. Prints "stopped US"
 * once the thread is stopped and "resumed US" as it is let go (the host's wall clock in
 * µs, the clock of QEMU's trace log).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/wait.h>

static long long now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
	char line[64];
	pid_t tid;
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: thread-stop TID\n");
		return 2;
	}
	tid = atoi(argv[1]);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		fprintf(stderr, "thread-stop: %d: %s\n", tid, strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		if (!strcmp(line, "stop\n")) {
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 || waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status)) {
				fprintf(stderr, "thread-stop: %d did not stop\n", tid);
				return 1;
			}
			printf("stopped %lld\n", now_us());
		} else if (!strcmp(line, "go\n")) {
			printf("resumed %lld\n", now_us());
			if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0) {
				fprintf(stderr, "thread-stop: %d: %s\n", tid, strerror(errno));
				return 1;
			}
		} else {
			fprintf(stderr, "thread-stop: unknown command %s", line);
			return 2;
		}
	}
	/* Detaching needs the thread stopped: a last stop of a few µs. */
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 || waitpid(tid, &status, __WALL) != tid)
		return errno != ESRCH;
	return ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0 && errno != ESRCH;
}
