/*
 * qt-trigger: the guest-side workload of qtrip's real-guest tests.
 *
 * It runs the steps given as arguments, in order:
 *
 *   wait:FIFO             block until the init writes to FIFO (its "go"), or another qt-trigger's release:FIFO
 *   release:FIFO          a marker, then open FIFO for writing (blocks until its reader opens it), write a
 *                         byte, close: wakes a task that sleeps in wait:FIFO, which is surely asleep (not
 *                         preempted while it runs) if it reached its wait first
 *   base:V                markers of the following calls are V+1, V+2, ... (default 0)
 *   mark:V                write byte V to the marker port
 *   nanosleep:MS[xN]      N times: a marker, then nanosleep(2) for MS milliseconds
 *   clock_nanosleep:MS[xN]  the same with clock_nanosleep(2)
 *   read:MS[xN]           the same with a read(2) of a timerfd that expires after MS
 *   getppid:MS[xT]        call getppid(2) in a loop for MS milliseconds, in T threads (default 1); print calls/s
 *   markers:0             from now on, no marker writes (a nested guest of test/e2e/chain, where the emulated
 *                         I/O bitmap faults a user-mode outb; kmsg:1 dates the calls there)
 *   kmsg:1                from now on, each call's start is also logged to /dev/kmsg (debug level: not on the
 *                         console), so that the guest's own log clock dates it
 *   spin:MS[xN]           N times: a marker, then a busy loop (no system call) for MS milliseconds
 *   open:PATH[xN]         N times: a marker, then openat(2) of PATH (read-only); print the first error
 *   dread:DEV[xN]         N times: a marker, then an O_DIRECT read(2) of the next 4 KiB of DEV
 *   fsync:PATH[xN]        N times: write 4 KiB to PATH (created; a block device: its first 4 KiB), a marker,
 *                         then fsync(2) it
 *   sockread:MS[xN]       N times: a marker, then a read(2) of a unix stream socket whose peer sends nothing,
 *                         given up after MS (SO_RCVTIMEO): it waits in af_unix's receive
 *   keyread:MS[xN]        the same with a PF_KEY socket: it waits in af_key's (a module on Debian)
 *   comm:NAME             set the task's name (what `on comm` and the kernel's messages see)
 *   uid:N                 become user N (and group N, no other groups): an ordinary user from now on
 *   segfault:0            write through NULL: the kernel logs "NAME[PID]: segfault at 0 ... in FILE[...]",
 *                         the task's name and its file's name, whatever words they hold
 *   fifo:PRIO             become SCHED_FIFO at PRIO: on one vCPU nothing else runs while it spins
 *   cpu:N                 run on CPU N only (sched_setaffinity)
 *   hog:MB                allocate and touch MB MiB, one MiB at a time, a marker after each 16
 *   thp:MB                map MB MiB aligned to 2 MiB, asked for as transparent huge pages
 *                         (madvise MADV_HUGEPAGE: such a fault may compact memory), then a marker
 *                         and a write to each 2 MiB
 *   restart:MS            a marker, then a read(2) of a timerfd that expires after MS, interrupted
 *                         halfway by a SIGALRM whose handler has SA_RESTART: the read returns
 *                         -ERESTARTSYS inside the kernel, which restarts it
 *   sleepers:MSxN         N threads (beside this one) each start a nanosleep(2) of MS at once, after
 *                         one marker, then wait 2 s in poll(2) (not in nanosleep); then they end
 *   execthread:           a second thread execs qt-trigger with the remaining steps (a non-leader
 *                         thread's execve: it takes the process's pid, the first thread dies)
 *
 * The marker is an `outb` to the parallel port's data register (LPT1, 0x378): QEMU
 * traces it (parallel_ioport_write) with a timestamp in the same log as the serial
 * port's; it is handled on the vCPU's thread as it happens, like the trip; and no
 * guest driver touches the port (parport_pc is a module we do not load). So QEMU
 * sees "call k starts" and "the trip" on one clock: their difference is the trip
 * latency.
 *
 * System calls are made with syscall(2): glibc's nanosleep() is clock_nanosleep
 * underneath, and name-filtered rules must see the call we mean.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <linux/pfkeyv2.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MARKER_PORT 0x378

static unsigned marker_base;
static unsigned calls;
static int kmsg = -1;
static int markers = 1;

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "qt-trigger: %s: %s\n", what, arg);
	exit(2);
}

static void mark(unsigned value)
{
	if (markers)
		outb(value & 0xff, MARKER_PORT);
}

/* Marks the start of the next blocking call: the last thing before the system call. */
static void call_starts(void)
{
	if (kmsg >= 0) {
		/* One write(2) is one log record. */
		char line[64];
		int n = snprintf(line, sizeof line, "<7>qt-trigger: call %u starts\n", marker_base + calls + 1);
		if (write(kmsg, line, n) != n)
			perror("qt-trigger: /dev/kmsg");
	}
	mark(marker_base + ++calls);
}

static struct timespec from_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	return ts;
}

static void call_nanosleep(long ms)
{
	struct timespec ts = from_ms(ms);
	call_starts();
	syscall(SYS_nanosleep, &ts, NULL);
}

static void call_clock_nanosleep(long ms)
{
	struct timespec ts = from_ms(ms);
	call_starts();
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void call_read(long ms)
{
	/* A timerfd read blocks in read(2) itself, in one task, for exactly MS. */
	struct itimerspec its = { .it_value = from_ms(ms) };
	unsigned long long expirations;
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);

	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0)
		die("timerfd", "cannot arm");
	call_starts();
	syscall(SYS_read, fd, &expirations, sizeof expirations);
	close(fd);
}

/* A marker, then a read(2) of socket fd, to which nothing is sent, given up after MS (SO_RCVTIMEO). */
static void timed_socket_read(int fd, long ms, const char *step)
{
	struct timeval timeout = { ms / 1000, (ms % 1000) * 1000 };
	char buffer[64];

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0)
		die(step, "cannot make the socket");
	call_starts();
	syscall(SYS_read, fd, buffer, sizeof buffer);
	close(fd);
}

static void call_socket_read(long ms)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		die("sockread", "cannot make the socket");
	timed_socket_read(fds[0], ms, "sockread");
	close(fds[1]);
}

static void call_key_read(long ms)
{
	timed_socket_read(socket(PF_KEY, SOCK_RAW, PF_KEY_V2), ms, "keyread");
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void call_restarted_read(long ms)
{
	/* The signal comes while the read blocks; SA_RESTART makes the kernel restart it. */
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval alarm_at = { .it_value = { ms / 2000, (ms / 2 % 1000) * 1000 } };
	struct itimerspec its = { .it_value = from_ms(ms) };
	unsigned long long expirations;
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);

	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0 || sigaction(SIGALRM, &sa, NULL) < 0)
		die("restart", "cannot arm");
	setitimer(ITIMER_REAL, &alarm_at, NULL);
	call_starts();
	if (syscall(SYS_read, fd, &expirations, sizeof expirations) != sizeof expirations)
		die("restart", "the read was not restarted");
	close(fd);
}

static pthread_barrier_t sleepers_go;
static long sleepers_ms;

static void *sleeper(void *unused)
{
	struct timespec ts = from_ms(sleepers_ms);
	(void)unused;
	pthread_barrier_wait(&sleepers_go);
	syscall(SYS_nanosleep, &ts, NULL);
	/* Alive, and out of the kernel's nanosleep (poll waits elsewhere): a call whose end was missed stays "in flight". */
	poll(NULL, 0, 2000);
	return NULL;
}

static void sleepers(long ms, long n)
{
	pthread_t threads[256];
	pthread_attr_t attr;

	if (n > 256)
		die("sleepers", "at most 256 threads");
	sleepers_ms = ms;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&sleepers_go, NULL, n + 1);
	for (long i = 0; i < n; i++)
		if (pthread_create(&threads[i], &attr, sleeper, NULL) != 0)
			die("pthread_create", "sleepers");
	call_starts();
	pthread_barrier_wait(&sleepers_go);
	for (long i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static char **exec_argv;

static void *exec_from_thread(void *unused)
{
	(void)unused;
	syscall(SYS_execve, "/proc/self/exe", exec_argv, NULL);
	die("execve", strerror(errno));
	return NULL;
}

/* The remaining steps run in a new image, exec'd by a thread that is not the group leader. */
static void exec_thread(char **rest)
{
	pthread_t thread;

	exec_argv = rest - 1; /* argv[0]: whatever precedes the rest */
	exec_argv[0] = "qt-trigger";
	if (pthread_create(&thread, NULL, exec_from_thread, NULL) != 0)
		die("pthread_create", "execthread");
	pthread_join(thread, NULL); /* never returns: the exec kills this thread */
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: not a system call */
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct loop {
	long ms;
	unsigned long calls;
	double elapsed;
};

static void *getppid_thread(void *arg)
{
	struct loop *loop = arg;
	double start = now_ms();

	do {
		for (int i = 0; i < 1024; i++)
			syscall(SYS_getppid);
		loop->calls += 1024;
		loop->elapsed = now_ms() - start;
	} while (loop->elapsed < loop->ms);
	return NULL;
}

/* T threads of one process (the pid a rule watches), each calling getppid(2) for MS. */
static void getppid_loop(long ms, long threads)
{
	struct loop loops[64] = { 0 };
	pthread_t ids[64];
	unsigned long n = 0;
	double elapsed = 0;

	if (threads > 64)
		die("too many threads", "getppid");
	for (long t = 0; t < threads; t++)
		loops[t].ms = ms;
	/* The main thread loops too: a thread blocked in pthread_join for the whole loop would be a slow call. */
	for (long t = 1; t < threads; t++)
		if (pthread_create(&ids[t], NULL, getppid_thread, &loops[t]))
			die("pthread_create", "getppid");
	getppid_thread(&loops[0]);
	for (long t = 0; t < threads; t++) {
		if (t > 0)
			pthread_join(ids[t], NULL);
		n += loops[t].calls;
		elapsed = loops[t].elapsed > elapsed ? loops[t].elapsed : elapsed;
	}
	printf("qt-trigger: getppid %lu calls in %.0f ms: %.0f calls/s\n", n, elapsed, n * 1e3 / elapsed);
	fflush(stdout);
}

static void release(const char *fifo)
{
	int fd;

	call_starts();
	fd = open(fifo, O_WRONLY);
	if (fd < 0 || write(fd, "", 1) != 1)
		die("cannot release", fifo);
	close(fd);
}

static void spin(long ms)
{
	double start;

	call_starts();
	start = now_ms();
	while (now_ms() - start < ms)
		;
}

static void open_path(const char *path, long times)
{
	int reported = 0;

	while (times-- > 0) {
		long fd;

		call_starts();
		fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		else if (!reported++)
			printf("qt-trigger: open %s: %s\n", path, strerror(errno));
	}
	fflush(stdout);
}

static void direct_read(const char *dev, long times)
{
	/* O_DIRECT: each read is a request to the device, never served by the page cache. */
	static char buffer[4096] __attribute__((aligned(4096)));
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0)
		die("cannot open", dev);
	while (times-- > 0) {
		call_starts();
		if (read(fd, buffer, sizeof buffer) != sizeof buffer)
			die("cannot read", dev);
	}
	close(fd);
}

static void write_fsync(const char *path, long times)
{
	/* Each fsync has a fresh dirty page to write back (and a journal commit on ext4). A block device
	 * has no end to append to: its first page, dirtied again. */
	static char buffer[4096];
	struct stat st;
	int device = stat(path, &st) == 0 && S_ISBLK(st.st_mode);
	int fd = open(path, O_WRONLY | O_CREAT | (device ? 0 : O_APPEND), 0644);

	if (fd < 0)
		die("cannot open", path);
	while (times-- > 0) {
		memset(buffer, times & 0xff, sizeof buffer);
		if ((device ? pwrite(fd, buffer, sizeof buffer, 0) : write(fd, buffer, sizeof buffer)) != sizeof buffer)
			die("cannot write", path);
		call_starts();
		if (fsync(fd) < 0)
			die("cannot fsync", path);
	}
	close(fd);
}

static void hog(long mb)
{
	for (long i = 1; i <= mb; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			die("out of memory", "malloc");
		memset(p, 1, 1 << 20);
		if (i % 16 == 0)
			call_starts();
	}
}

static void thp(long mb)
{
	const unsigned long huge = 2UL << 20;
	char *map = mmap(NULL, (mb << 20) + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (map == MAP_FAILED)
		die("cannot map", "thp");
	p = (char *)(((unsigned long)map + huge - 1) & ~(huge - 1));
	if (madvise(p, mb << 20, MADV_HUGEPAGE))
		die("cannot madvise", "MADV_HUGEPAGE");
	call_starts();
	for (long off = 0; off < mb << 20; off += huge)
		p[off] = 1;
}

static void become_fifo(int prio)
{
	struct sched_param param = { .sched_priority = prio };
	if (sched_setscheduler(0, SCHED_FIFO, &param) < 0)
		die("sched_setscheduler", strerror(errno));
}

/* "TEXT" or "TEXTxN": the count after the last 'x', if it is all digits */
static const char *split_repeat(const char *arg, char *text, size_t size, long *times)
{
	const char *x = strrchr(arg, 'x');
	size_t len = strlen(arg);
	char *end;

	*times = 1;
	if (x && x[1]) {
		long n = strtol(x + 1, &end, 10);
		if (!*end && n > 0) {
			*times = n;
			len = x - arg;
		}
	}
	if (len >= size)
		die("argument too long", arg);
	memcpy(text, arg, len);
	text[len] = 0;
	return text;
}

/* "MS" or "MSxN" */
static void parse_repeat(const char *text, long *ms, long *times)
{
	char *end;
	*ms = strtol(text, &end, 10);
	*times = *end == 'x' ? strtol(end + 1, &end, 10) : 1;
	if (*end || *ms < 0 || *times < 1)
		die("bad duration", text);
}

static void run_step(const char *step)
{
	const char *arg = strchr(step, ':');
	long ms, times;

	if (!arg)
		die("bad step", step);
	arg++;
	if (!strncmp(step, "wait:", 5)) {
		/* Read the go byte too: closing first would fail the writer with EPIPE. */
		char go;
		int fd = open(arg, O_RDONLY);
		if (fd < 0 || read(fd, &go, 1) < 0)
			die("cannot read", arg);
		close(fd);
	} else if (!strncmp(step, "release:", 8)) {
		release(arg);
	} else if (!strncmp(step, "base:", 5)) {
		marker_base = strtoul(arg, NULL, 0);
	} else if (!strncmp(step, "mark:", 5)) {
		mark(strtoul(arg, NULL, 0));
	} else if (!strncmp(step, "getppid:", 8)) {
		parse_repeat(arg, &ms, &times);
		getppid_loop(ms, times);
	} else if (!strncmp(step, "markers:", 8)) {
		markers = atoi(arg);
	} else if (!strncmp(step, "kmsg:", 5)) {
		kmsg = open("/dev/kmsg", O_WRONLY);
	} else if (!strncmp(step, "open:", 5) || !strncmp(step, "dread:", 6) || !strncmp(step, "fsync:", 6)) {
		char path[256];
		split_repeat(arg, path, sizeof path, &times);
		(step[0] == 'o' ? open_path : step[0] == 'd' ? direct_read : write_fsync)(path, times);
	} else if (!strncmp(step, "comm:", 5)) {
		prctl(PR_SET_NAME, arg);
	} else if (!strncmp(step, "uid:", 4)) {
		uid_t id = strtoul(arg, NULL, 10);
		if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id) || getuid() != id)
			die("cannot become user", arg);
	} else if (!strncmp(step, "segfault:", 9)) {
		*(volatile int *)(long)atoi(arg) = 0;
	} else if (!strncmp(step, "cpu:", 4)) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(atoi(arg), &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			die("cannot run on CPU", arg);
	} else if (!strncmp(step, "fifo:", 5)) {
		become_fifo(atoi(arg));
	} else if (!strncmp(step, "sleepers:", 9)) {
		parse_repeat(arg, &ms, &times);
		sleepers(ms, times);
	} else if (!strncmp(step, "hog:", 4)) {
		hog(atol(arg));
	} else if (!strncmp(step, "thp:", 4)) {
		thp(atol(arg));
	} else {
		void (*call)(long);
		if (!strncmp(step, "nanosleep:", 10))
			call = call_nanosleep;
		else if (!strncmp(step, "clock_nanosleep:", 16))
			call = call_clock_nanosleep;
		else if (!strncmp(step, "read:", 5))
			call = call_read;
		else if (!strncmp(step, "spin:", 5))
			call = spin;
		else if (!strncmp(step, "restart:", 8))
			call = call_restarted_read;
		else if (!strncmp(step, "sockread:", 9))
			call = call_socket_read;
		else if (!strncmp(step, "keyread:", 8))
			call = call_key_read;
		else
			die("unknown step", step);
		parse_repeat(arg, &ms, &times);
		while (times-- > 0)
			call(ms);
	}
}

int main(int argc, char **argv)
{
	if (ioperm(MARKER_PORT, 1, 1) < 0) {
		perror("qt-trigger: ioperm");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "execthread:"))
			exec_thread(&argv[i + 1]);
		run_step(argv[i]);
	}
	return 0;
}
