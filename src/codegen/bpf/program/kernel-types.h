/* The few kernel types the program reads, declared the CO-RE way: only the
 * fields used, each relocated by libbpf against the running kernel's own BTF
 * (preserve_access_index), so one object fits every x86-64 kernel >= 6.1 with
 * BTF whatever its configuration. A vmlinux.h generated from one kernel would
 * give the same relocations; this keeps the build free of any kernel image.
 */
#ifndef QTRIP_KERNEL_TYPES_H
#define QTRIP_KERNEL_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type { BPF_MAP_TYPE_RINGBUF = 27 };

/* The guest's registers as KVM keeps them: regs[VCPU_REGS_RAX] is regs[0]. */
struct kvm_vcpu_arch {
	unsigned long regs[17]; /* NR_VCPU_REGS */
} __attribute__((preserve_access_index));

struct kvm_vcpu {
	struct kvm_vcpu_arch arch;
} __attribute__((preserve_access_index));

/* crash_kexec()'s argument: the kernel's own struct pt_regs, layout included
 * (libbpf rejects a forward declaration as incompatible, and the verifier
 * checks the memory passed against the kernel's size of it, 168 bytes). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
	unsigned long orig_ax, ip, cs, flags, sp, ss;
};

#endif
