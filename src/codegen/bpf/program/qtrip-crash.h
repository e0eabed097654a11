/* What the BPF program tells its loader (one ring buffer record each). */
#ifndef QTRIP_CRASH_H
#define QTRIP_CRASH_H

enum qtrip_reason {
	/* The channel write came, but no crash kernel was loaded: not crashing. */
	QTRIP_NO_CRASH_KERNEL = 1,
	/* crash_kexec() returned without crashing. */
	QTRIP_CRASH_RETURNED = 2,
};

struct qtrip_event {
	__u32 reason;
	__u32 tgid;
	__u32 tid;
};

#endif
