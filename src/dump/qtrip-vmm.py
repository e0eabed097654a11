# qtrip's first look at a hypervisor dump, for drgn (https://drgn.readthedocs.io):
# each VMM process (a process with KVM vCPU files open), its threads, whether
# each vCPU thread was inside KVM_RUN when the host crashed, and its kernel stack.
#
#   drgn -c VMCORE -s VMLINUX qtrip-vmm.py
#
# VMLINUX is the kernel's debug image (Debian: linux-image-RELEASE-dbg); the dump
# needs only kernel memory (makedumpfile -d 31). Frames inside modules (kvm,
# kvm_amd, the qtrip probe) are named from each module's own symbol table in the
# dump: no module debug information is needed (drgn 0.0.22 takes module files only
# with DWARF). Tested with Debian 12's drgn 0.0.22 on its 6.1 kernel (x86_64).
#
# A thread is in KVM_RUN when its system call, as its saved user registers say, is
# ioctl(2) with KVM_RUN on a kvm-vcpu file; that needs no KVM debug information.
# Frames marked "?" were found on the stack, not unwound: the kernel's convention.
from drgn import FaultError, Object, SymbolKind
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_cpu

SYS_IOCTL = 16  # x86_64
KVM_RUN = 0xAE80  # _IO(KVMIO, 0x80)
THREAD_SIZE = 16384  # x86_64 without KASAN: PAGE_SIZE << 2


def pt_regs(task):
    """The user registers saved at the top of a task's kernel stack (x86_64: no padding)."""
    size = prog.type("struct pt_regs").size
    top = task.stack.value_() + THREAD_SIZE
    return Object(prog, "struct pt_regs", address=top - size)


def vcpu_files(task):
    """The task's open kvm-vcpu files: {fd: name}."""
    fdt = task.files.fdt
    found = {}
    for fd in range(fdt.max_fds.value_()):
        file = fdt.fd[fd]
        if not file:
            continue
        try:
            name = file.f_path.dentry.d_name.name.string_().decode(errors="replace")
        except FaultError:
            continue
        if name.startswith("kvm-vcpu:"):
            found[fd] = name
    return found


def modules():
    """Each module's core text range and its text symbols, from its own kallsyms in the dump
    (drgn 0.0.22 takes module files only with DWARF): [(start, end, name, [(address, symbol)])]."""
    out = []
    head = prog["modules"].address_of_()
    node = head.next
    offset = prog.type("struct module").member("list").offset
    while node != head:
        mod = Object(prog, "struct module", address=node.value_() - offset)
        base = mod.core_layout.base.value_()
        end = base + mod.core_layout.size.value_()
        syms = []
        kallsyms = mod.kallsyms
        for i in range(kallsyms.num_symtab.value_()):
            sym = kallsyms.symtab[i]
            address = sym.st_value.value_()
            if base <= address < end and sym.st_name and chr(kallsyms.typetab[i].value_()) in "tT":
                name = prog.read(kallsyms.strtab.value_() + sym.st_name.value_(), 128).split(b"\0", 1)[0].decode(errors="replace")
                syms.append((address, name))
        syms.sort()
        out.append((base, end, mod.name.string_().decode(), syms))
        node = node.next
    return out


def symbolize(pc, mods):
    """name+offset [module] for a kernel text address, or None."""
    try:
        sym = prog.symbol(pc)
        return f"{sym.name}+{pc - sym.address:#x}" if sym.kind != SymbolKind.OBJECT else None
    except LookupError:
        pass
    for start, end, name, syms in mods:
        if start <= pc < end:
            below = [s for s in syms if s[0] <= pc]
            return f"{below[-1][1]}+{pc - below[-1][0]:#x} [{name}]" if below else f"[{name}]+{pc - start:#x}"
    return None


MAX_FRAMES = 32


def stack(task, mods):
    """The unwound frames (at most MAX_FRAMES: int13's nested faults recurse), then, if the unwinder
    did not reach the system call entry (a frame without ORC data, such as SystemTap's module, stops
    it), each kernel function whose address is found on the rest of the stack, once, marked '?' as
    the kernel marks frames it is not sure of."""
    lines = []
    sp = None
    try:
        for frame in prog.stack_trace(task):
            if len(lines) == MAX_FRAMES:
                lines.append(f"(unwinding stopped after {MAX_FRAMES} frames)")
                break
            text = symbolize(frame.pc, mods) or hex(frame.pc)
            if frame.is_inline and frame.name:
                text = f"{frame.name} (inlined in {text})"
            lines.append(f"#{len(lines)} {text}")
            sp = frame.sp
    except (FaultError, ValueError) as e:
        lines.append(f"(unwinding stopped: {e})")
    bottom = task.stack.value_()
    top = bottom + THREAD_SIZE - prog.type("struct pt_regs").size
    if any("entry_SYSCALL_64" in line for line in lines):
        return lines
    # The crashed CPU's frames may be on an exception stack: scan the task's own stack from its bottom then.
    start = sp if sp is not None and bottom <= sp < top else bottom
    words = prog.read(start, top - start)
    seen = set()
    for i in range(0, len(words) - 7, 8):
        text = symbolize(int.from_bytes(words[i : i + 8], "little"), mods)
        if text and not text.startswith("[") and text not in seen:
            seen.add(text)
            lines.append(f"? {text}")
    return lines


def in_kvm_run(task, vcpus):
    regs = pt_regs(task)
    if regs.orig_ax.value_() != SYS_IOCTL or regs.si.value_() & 0xFFFFFFFF != KVM_RUN:
        return None
    return vcpus.get(regs.di.value_(), f"fd {regs.di.value_()}")


def threads(leader):
    node = leader.signal.thread_head.next
    head = leader.signal.thread_head.address_of_()
    offset = prog.type("struct task_struct").member("thread_node").offset
    while node != head:
        yield Object(prog, "struct task_struct *", value=node.value_() - offset)
        node = node.next


def main():
    mods = modules()
    crashing = prog.crashed_thread().object if hasattr(prog, "crashed_thread") else None
    vmms = [t for t in for_each_task(prog) if t.pid == t.tgid and t.files and vcpu_files(t)]
    print(f"qtrip-vmm: {len(vmms)} VMM process(es) with KVM vCPUs")
    for vmm in vmms:
        vcpus = vcpu_files(vmm)
        print(f"VMM pid {vmm.pid.value_()} comm '{vmm.comm.string_().decode()}': {len(vcpus)} vCPU file(s) {', '.join(sorted(vcpus.values()))}")
        for task in threads(vmm):
            run = in_kvm_run(task, vcpus)
            state = f"in KVM_RUN on {run}" if run else "not in KVM_RUN"
            mark = " (crashing thread)" if crashing is not None and task.value_() == crashing.value_() else ""
            cpu = task_cpu(task)
            print(f"  thread {task.pid.value_()} '{task.comm.string_().decode()}' cpu {cpu}: {state}{mark}")
            for line in stack(task, mods):
                print(f"    {line}")


main()
