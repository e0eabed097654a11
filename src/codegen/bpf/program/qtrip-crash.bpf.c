// SPDX-License-Identifier: GPL-2.0
/* qtrip's BPF host program: crashes the hypervisor into kdump at the moment a
 * guest writes the channel byte to the channel port, in the vCPU thread, before
 * KVM returns to the guest or to user space. No module, no compiler on the host:
 * the loader (qtrip-bpf-crash.c) sets the channel and the VMM before loading.
 *
 * fentry on kvm_fast_pio (the path of every plain OUT, Intel and AMD): the
 * tp_btf kvm_pio tracepoint would see string I/O too, but in 6.1 a tracing
 * program cannot read its `const void *data`; crash_kexec() is callable from
 * tracing programs since 6.1 (KF_DESTRUCTIVE: the loader needs CAP_SYS_BOOT).
 */
#include "kernel-types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "qtrip-crash.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (read-only to the verifier: dead branches go). */
const volatile __u32 vmm_tgid = 0; /* 0: any VMM */
const volatile __u16 channel_port = 0;
const volatile __u8 channel_value = 0;

/* Set once, by the first channel write: later writes do nothing. */
__u32 tripped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

extern void crash_kexec(struct pt_regs *regs) __ksym;
/* Typeless: its address, from kallsyms (6.1's BTF has no global variables). */
extern const void kexec_crash_image __ksym;

static void report(__u32 reason, __u64 id)
{
	struct qtrip_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	e->reason = reason;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	bpf_ringbuf_submit(e, 0);
}

SEC("fentry/kvm_fast_pio")
int BPF_PROG(qtrip_trip, struct kvm_vcpu *vcpu, int size, unsigned short port, int in)
{
	struct pt_regs regs = {};
	void *image = 0;
	__u64 id;

	if (in || size != 1 || port != channel_port)
		return 0;
	/* The guest's AL: RAX holds whatever the guest left in its upper bytes. */
	if ((BPF_CORE_READ(vcpu, arch.regs[0]) & 0xff) != channel_value)
		return 0;
	id = bpf_get_current_pid_tgid();
	if (vmm_tgid && (id >> 32) != vmm_tgid)
		return 0;
	if (__sync_val_compare_and_swap(&tripped, 0, 1) != 0)
		return 0;
	/* crash_kexec() returns doing nothing without a crash kernel: check first,
	 * so that the loader can say why and disarm. */
	bpf_probe_read_kernel(&image, sizeof(image), &kexec_crash_image);
	if (!image) {
		report(QTRIP_NO_CRASH_KERNEL, id);
		return 0;
	}
	/* The dump's registers for this CPU: where the trip was caught, and this
	 * thread's stack (the trampoline's frame, just under kvm_fast_pio's). */
	regs.ip = bpf_get_func_ip(ctx);
	regs.sp = (unsigned long)ctx;
	crash_kexec(&regs);
	/* Still here: the crash kernel went away after the check, or another CPU
	 * is already panicking. */
	report(QTRIP_CRASH_RETURNED, id);
	return 0;
}
