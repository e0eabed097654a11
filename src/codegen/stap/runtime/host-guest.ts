// The guest under investigation, chosen by its VMM process (stap -x PID):
// target() is that process's pid, and its vCPU threads are its threads
// (pid() is the thread group's id). When the script starts, -x must name a
// process (not one of its threads) that has a KVM virtual machine open; when
// that process ends (the VMM restarts with a new pid) the script stops, loudly,
// rather than watch a pid that no guest will ever use again.
import type { Fragment } from "../fragment.js";
import { refuse } from "./refuse.js";

/** The restart command a refusal suggests. */
const LIBVIRT_PID = "$(cat /run/libvirt/qemu/DOMAIN.pid)";

export const NO_GUEST_CHOSEN =
  `qtrip: no guest chosen: run with -x VMM_PID, the guest's QEMU process (libvirt: -x ${LIBVIRT_PID}), ` +
  "or compile with --any-guest to let any guest on this host trip it";

export const chosenGuest: Fragment = {
  name: "chosen guest",
  requires: [refuse],
  probes: ['kernel.trace("sched:sched_process_exit")'],
  c: String.raw`#include <linux/atomic.h>
#include <linux/fdtable.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>

/* A KVM virtual machine file, as KVM_CREATE_VM makes it ("anon_inode:kvm-vm" in /proc/PID/fd). */
static int qt_kvm_vm_file(const void *unused, struct file *file, unsigned fd)
{
	return !strcmp(file->f_path.dentry->d_name.name, "kvm-vm");
}

static atomic_t qt_vmm_ended;`,
  stap: String.raw`# Why -x PID is not a guest's VMM process, or "" when it is one.
function qt_vmm_problem:string(pid:long) %{
	struct task_struct *task;
	int vm = 0;

	rcu_read_lock();
	task = pid_task(find_pid_ns(STAP_ARG_pid, &init_pid_ns), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task) {
		snprintf(STAP_RETVALUE, MAXSTRINGLEN, "qtrip: -x %lld: no such process: give the pid of the guest's VMM (QEMU) process", (long long)STAP_ARG_pid);
		return;
	}
	if (task->pid != task->tgid) {
		snprintf(STAP_RETVALUE, MAXSTRINGLEN, "qtrip: -x %lld is a thread of process %d ('%s'): give the process's pid, -x %d",
			 (long long)STAP_ARG_pid, task->tgid, task->group_leader->comm, task->tgid);
	} else {
		task_lock(task);
		if (task->files)
			vm = iterate_fd(task->files, 0, qt_kvm_vm_file, NULL);
		task_unlock(task);
		if (!vm)
			snprintf(STAP_RETVALUE, MAXSTRINGLEN, "qtrip: -x %lld ('%s') has no KVM virtual machine open: give the pid of the guest's VMM (QEMU) process",
				 (long long)STAP_ARG_pid, task->comm);
	}
	put_task_struct(task);
%}

# The chosen VMM process has ended: its last thread is exiting (once, whichever thread that is).
probe kernel.trace("sched:sched_process_exit") {
	if (qt_vmm_ending($p))
		qt_refuse(sprintf("qtrip: the guest's VMM process (pid %d) has exited: host probe disarmed; a restarted guest has a new pid: run the host script again with -x NEW_PID", target()))
}

function qt_vmm_ending:long(task:long) %{
	struct task_struct *p = (struct task_struct *)(unsigned long)STAP_ARG_task;
	STAP_RETURN(p->tgid == _stp_target && atomic_read(&p->signal->live) == 0 && atomic_cmpxchg(&qt_vmm_ended, 0, 1) == 0);
%}`,
};
