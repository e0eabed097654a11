/*
 * kvmguest: the smallest KVM user of our own, run inside the emulated hypervisor.
 * One VM, one memory slot, one or more vCPUs in real mode (each in its own thread),
 * all running the same code made of the port accesses named on the command line, then hlt.
 *
 *   kvmguest [--label NAME] [--wait-for PATH] [--vcpus N | --hot-add TENTHS] OP...
 *   OP:  outb:PORT:BYTE  outw:PORT:WORD  outl:PORT:DWORD  (AL/AX/EAX then one OUT)
 *        outsb:PORT:B,B,...                               (rep outsb of those bytes)
 *        inb:PORT                                         (in al,dx with AL = 0x1f first)
 *        spin:MS                                          (guest code alone, no exit, until MS ms of
 *                                                          TSC time have passed since the op began)
 *        storm:PORT:MS                                    (out dx,al to PORT in a loop for MS ms: an exit
 *                                                          storm; these exits are not logged)
 *        pause:TENTHS   (an OUT to port 0x7f: kvmguest sleeps TENTHS/10 s before the next KVM_RUN)
 *        outbn:PORT:BYTE,N                                (N times: AL then one OUT, in a loop)
 *
 * Around every KVM_RUN it writes a line to /dev/kmsg, so the kernel log clock
 * shows when the vCPU entered the kernel and whether KVM_RUN ever came back:
 *   kvmguest NAME pid P: KVM_RUN enter #N
 *   kvmguest NAME pid P: KVM_RUN returned #N exit io out port 0x3ff size 1 count 1 data 1f
 * With --quiet it writes only the last line (hlt: its number counts the exits), for loops.
 * With --wait-for it sets everything up, prints "ready" and waits for PATH to exist
 * before the first KVM_RUN (so a probe can be limited to this pid first).
 * With --vcpus N (N > 1) vCPU K's lines are labelled NAME/vK, and the N threads, once
 * set up, leave a barrier together: their writes reach KVM at about the same time.
 * With --hot-add T, vCPU 0 is created and never run, and T/10 s after the start a new thread
 * creates vCPU 1 and runs the OPs: a vCPU hot-added to a running VMM.
 * Built static at test time: the emulated host has no libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x10000
#define CODE_AT 0x1000
#define DATA_AT 0x8000
/* An OUT here is the pause op's: user space sleeps, so a host script can re-arm in between. */
#define PAUSE_PORT 0x7f

static const char *label = "guest";
static int kmsg = -1;
static uint8_t *mem;
static int nvcpus = 1;
static int hot_add;
static int quiet_all; /* --quiet */
static const char *wait_for;
static int kvm, vm, run_size;
static pthread_barrier_t start;
static __thread char vcpu_label[96];
/* TSC ticks per millisecond, measured once; the guest's TSC runs at the host's rate. */
static uint64_t tsc_per_ms;
/* The port of a storm op: its thousands of exits are not logged. */
static int quiet_port = -1;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void measure_tsc(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = rdtsc();
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	uint64_t ns = (b.tv_sec - a.tv_sec) * 1000000000ull + b.tv_nsec - a.tv_nsec;
	tsc_per_ms = (rdtsc() - t0) * 1000000ull / ns;
}

/*
 * Guest code that runs `body` (k bytes, or none) in a loop until `ms` ms of TSC
 * time have passed since the loop began: a deadline, not a count, so that a vCPU
 * the host did not run for a while ends the loop as soon as it runs again.
 */
static uint8_t *emit_until(uint8_t *p, unsigned ms, const uint8_t *body, int k)
{
	uint64_t ticks = tsc_per_ms * ms;
	*p++ = 0x0f, *p++ = 0x31;                                          /* rdtsc */
	*p++ = 0x66, *p++ = 0x89, *p++ = 0xc3;                             /* mov ebx, eax */
	*p++ = 0x66, *p++ = 0x89, *p++ = 0xd6;                             /* mov esi, edx */
	*p++ = 0x66, *p++ = 0x81, *p++ = 0xc3;                             /* add ebx, low(ticks) */
	for (int i = 0; i < 4; i++)
		*p++ = ticks >> (8 * i);
	*p++ = 0x66, *p++ = 0x81, *p++ = 0xd6;                             /* adc esi, high(ticks) */
	for (int i = 0; i < 4; i++)
		*p++ = ticks >> (32 + 8 * i);
	memcpy(p, body, k), p += k;                                        /* again: body */
	*p++ = 0x0f, *p++ = 0x31;                                          /* rdtsc */
	*p++ = 0x66, *p++ = 0x39, *p++ = 0xf2;                             /* cmp edx, esi */
	*p++ = 0x72, *p++ = (uint8_t)-(k + 7);                             /* jb again */
	*p++ = 0x77, *p++ = 5;                                             /* ja done */
	*p++ = 0x66, *p++ = 0x39, *p++ = 0xd8;                             /* cmp eax, ebx */
	*p++ = 0x72, *p++ = (uint8_t)-(k + 14);                            /* jb again; done: */
	return p;
}

static void say(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof line, "kvmguest %s pid %d: ", vcpu_label[0] ? vcpu_label : label, (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	/* One write() is one kernel log record, stamped by the kernel's clock. */
	if (kmsg < 0 || write(kmsg, line, n) < 0)
		fprintf(stderr, "%s\n", line);
}

static void die(const char *what)
{
	say("error: %s: %m", what);
	exit(1);
}

/* Appends the machine code of one OP at *pc; returns 0 for an unknown OP. */
static int emit(const char *op, uint8_t **pc, size_t *data_used)
{
	char kind[8];
	unsigned port, value;
	char list[256];
	uint8_t *p = *pc;

	if (sscanf(op, "%7[a-z]:%i:%255s", kind, &port, list) < 2)
		return 0;
	if (!strcmp(kind, "spin")) {
		*pc = emit_until(p, port, NULL, 0);
		return 1;
	}
	if (!strcmp(kind, "storm")) {
		uint8_t body[] = { 0xba, port & 0xff, port >> 8, 0xb0, 0x00, 0xee }; /* mov dx, port; mov al, 0; out dx, al */
		quiet_port = port;
		*pc = emit_until(p, strtoul(list, NULL, 0), body, sizeof body);
		return 1;
	}
	*p++ = 0xba, *p++ = port & 0xff, *p++ = port >> 8;          /* mov dx, port */
	if (!strcmp(kind, "pause")) {
		/* "pause:N": OP's PORT is the tenths; the OUT goes to PAUSE_PORT. */
		p -= 3;
		*p++ = 0xba, *p++ = PAUSE_PORT, *p++ = 0x00;               /* mov dx, PAUSE_PORT */
		*p++ = 0xb0, *p++ = port;                                  /* mov al, tenths */
		*p++ = 0xee;                                               /* out dx, al */
	} else if (!strcmp(kind, "inb")) {
		*p++ = 0xb0, *p++ = 0x1f;                                  /* mov al, 0x1f: a stale AL */
		*p++ = 0xec;                                               /* in al, dx */
	} else if (!strcmp(kind, "outsb")) {
		uint16_t at = DATA_AT + *data_used, n = 0;
		for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
			mem[at + n++] = strtoul(tok, NULL, 0);
		*data_used += n;
		*p++ = 0xb0, *p++ = 0x1f;                                  /* mov al, 0x1f: a stale AL */
		*p++ = 0xbe, *p++ = at & 0xff, *p++ = at >> 8;             /* mov si, at */
		*p++ = 0xb9, *p++ = n & 0xff, *p++ = n >> 8;               /* mov cx, n */
		*p++ = 0xfc;                                               /* cld */
		*p++ = 0xf3, *p++ = 0x6e;                                  /* rep outsb */
	} else {
		value = strtoul(list, NULL, 0);
		if (!strcmp(kind, "outb")) {
			/* AH gets garbage first: the probe must look at AL only. */
			*p++ = 0xb8, *p++ = 0x00, *p++ = 0x55;                 /* mov ax, 0x5500 */
			*p++ = 0xb0, *p++ = value;                             /* mov al, value */
			*p++ = 0xee;                                           /* out dx, al */
		} else if (!strcmp(kind, "outbn")) {
			char *end;
			unsigned n = strtoul(list, &end, 0), times = *end == ',' ? strtoul(end + 1, NULL, 0) : 0;
			value = n;
			if (times < 1 || times > 0xffff)
				return 0;
			*p++ = 0xb9, *p++ = times & 0xff, *p++ = times >> 8;   /* mov cx, times */
			*p++ = 0xb8, *p++ = 0x00, *p++ = 0x55;                 /* again: mov ax, 0x5500 */
			*p++ = 0xb0, *p++ = value;                             /* mov al, value */
			*p++ = 0xee;                                           /* out dx, al */
			*p++ = 0xe2, *p++ = 0xf8;                              /* loop again (-8) */
		} else if (!strcmp(kind, "outw")) {
			*p++ = 0xb8, *p++ = value, *p++ = value >> 8;          /* mov ax, value */
			*p++ = 0xef;                                           /* out dx, ax */
		} else if (!strcmp(kind, "outl")) {
			*p++ = 0x66, *p++ = 0xb8;                              /* mov eax, value */
			for (int i = 0; i < 4; i++)
				*p++ = value >> (8 * i);
			*p++ = 0x66, *p++ = 0xef;                              /* out dx, eax */
		} else {
			return 0;
		}
	}
	*pc = p;
	return 1;
}

/* One vCPU: set up in real mode at CODE_AT, then KVM_RUN until hlt; returns the exit status. */
static void *vcpu_thread(void *arg)
{
	long id = (long)arg;
	if (nvcpus > 1)
		snprintf(vcpu_label, sizeof vcpu_label, "%s/v%ld", label, id);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, id);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	/* Real mode, all segments at 0, code at CODE_AT. */
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	struct kvm_segment *segs[] = { &sregs.cs, &sregs.ds, &sregs.es, &sregs.ss };
	for (unsigned s = 0; s < sizeof segs / sizeof *segs; s++)
		segs[s]->base = 0, segs[s]->selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = CODE_AT, .rflags = 0x2, .rsp = 0x7000 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	pthread_barrier_wait(&start); /* every vCPU set up */
	if (wait_for && id == 0) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		struct stat st;
		while (stat(wait_for, &st) < 0)
			usleep(20000);
	}
	pthread_barrier_wait(&start); /* and off together */

	int quiet = 0; /* the last exit was a storm's: its KVM_RUNs are not logged either */
	for (int n = 1;; n++) {
		if (!quiet && !quiet_all)
			say("KVM_RUN enter #%d", n);
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			/* A signal (SIGSTOP and SIGCONT too) ends KVM_RUN early: run again, as a VMM does. */
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			char hexdata[64] = "";
			unsigned len = run->io.size * run->io.count;
			if (run->io.direction == KVM_EXIT_IO_IN)
				memset(data, 0xa5, len);                /* what the guest reads */
			quiet = run->io.port == quiet_port;
			if (quiet)
				break;
			for (unsigned b = 0, at = 0; b < len && b < 16; b++)
				at += sprintf(hexdata + at, b ? " %02x" : "%02x", data[b]);
			if (!quiet_all)
				say("KVM_RUN returned #%d exit io %s port 0x%x size %u count %u data %s", n,
			    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port, run->io.size,
			    run->io.count, hexdata);
			if (run->io.port == PAUSE_PORT && run->io.direction == KVM_EXIT_IO_OUT)
				usleep(data[0] * 100000);
			break;
		}
		case KVM_EXIT_HLT:
			say("KVM_RUN returned #%d exit hlt: done", n);
			return NULL;
		default:
			say("KVM_RUN returned #%d exit reason %u: unexpected", n, run->exit_reason);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--quiet")) {
			quiet_all = 1;
			i--;
		} else if (!strcmp(argv[i], "--label"))
			label = argv[i + 1];
		else if (!strcmp(argv[i], "--wait-for"))
			wait_for = argv[i + 1];
		else if (!strcmp(argv[i], "--vcpus"))
			nvcpus = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--hot-add"))
			hot_add = atoi(argv[i + 1]);
		else
			break;
	}
	if (nvcpus < 1 || nvcpus > 16) {
		fprintf(stderr, "kvmguest: --vcpus takes 1 to 16\n");
		return 2;
	}
	kmsg = open("/dev/kmsg", O_WRONLY);

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	measure_tsc();
	uint8_t *pc = mem + CODE_AT;
	size_t data_used = 0;
	for (; i < argc; i++)
		if (!emit(argv[i], &pc, &data_used)) {
			fprintf(stderr, "kvmguest: bad op '%s'\n", argv[i]);
			return 2;
		}
	*pc++ = 0xf4;                                                      /* hlt */

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);

	pthread_barrier_init(&start, NULL, nvcpus);
	if (hot_add > 0) {
		if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
			die("KVM_CREATE_VCPU");
		if (wait_for) {
			printf("ready %d\n", (int)getpid());
			fflush(stdout);
			struct stat st;
			while (stat(wait_for, &st) < 0)
				usleep(20000);
		}
		usleep(hot_add * 100000);
		pthread_t late;
		if (pthread_create(&late, NULL, vcpu_thread, (void *)1))
			die("pthread_create");
		pthread_join(late, NULL);
		return 0;
	}
	pthread_t threads[16];
	for (long id = 1; id < nvcpus; id++)
		if (pthread_create(&threads[id], NULL, vcpu_thread, (void *)id))
			die("pthread_create");
	vcpu_thread((void *)0);
	for (long id = 1; id < nvcpus; id++)
		pthread_join(threads[id], NULL);
	return 0;
}
