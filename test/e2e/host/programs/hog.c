/*
 * hog: a busy host task for the report scenarios, run inside the emulated hypervisor.
 *
 *   hog CPU RTPRIO MS
 *
 * Pins itself to CPU, takes SCHED_FIFO at RTPRIO (as `chrt -f RTPRIO taskset -c CPU` would:
 * busybox has no chrt) and spins for MS milliseconds, so that a vCPU thread pinned to the
 * same CPU at a normal priority is runnable and does not run. Built static at test time.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ll + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: hog CPU RTPRIO MS\n");
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	struct sched_param param = { .sched_priority = atoi(argv[2]) };
	if (sched_setaffinity(0, sizeof set, &set) < 0 || sched_setscheduler(0, SCHED_FIFO, &param) < 0) {
		perror("hog");
		return 1;
	}
	long long end = now_ms() + atoll(argv[3]);
	while (now_ms() < end)
		;
	return 0;
}
