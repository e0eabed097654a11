// The guest under investigation, chosen by its VMM process (stap -x PID):
// target() is that process's pid, and its vCPU threads are its threads
// (pid() is the thread group's id). When the script starts, -x must name a
// process (not one of its threads) that has a KVM virtual machine open; when
// that process ends (the VMM restarts with a new pid) the script stops, loudly,
// rather than watch a pid that no guest will ever use again.
//
// A pid is a number the kernel reuses. The script holds the chosen process's
// struct pid (what a pidfd holds) from the begin probe on: a vCPU counts only
// when its thread group is that very process, and a timer rechecks that the
// process is alive, which closes the window between the begin probe's check and
// the exit probe's registration. A libvirt pid file can be stale: its pid then
// belongs to a process started after the file was written, which the header's
// libvirt command lets the script see (-G qt_pidfile_time=the file's mtime).
import type { Fragment } from "../fragment.js";
import { refuse } from "./refuse.js";

/** The restart command a refusal suggests. */
const LIBVIRT_PID = "$(cat /run/libvirt/qemu/DOMAIN.pid)";

export const NO_GUEST_CHOSEN =
  `qtrip: no guest chosen: run with -x VMM_PID, the guest's QEMU process (libvirt: -x ${LIBVIRT_PID}), ` +
  "or compile with --any-guest to let any guest on this host trip it";

/** How often the chosen VMM process is checked to be alive. */
const VMM_CHECK_MS = 200;

/** The probe handlers' test that a write comes from the chosen VMM process. */
export const IN_CHOSEN_VMM = "qt_in_vmm_now()";

export const chosenGuest: Fragment = {
  name: "chosen guest",
  requires: [refuse],
  probes: ['kernel.trace("sched:sched_process_exit")', `timer.ms(${VMM_CHECK_MS})`, "end"],
  c: String.raw`#include <linux/atomic.h>
#include <linux/fdtable.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

/* A KVM virtual machine file, as KVM_CREATE_VM makes it ("anon_inode:kvm-vm" in /proc/PID/fd). */
static int qt_kvm_vm_file(const void *unused, struct file *file, unsigned fd)
{
	return !strcmp(file->f_path.dentry->d_name.name, "kvm-vm");
}

static atomic_t qt_vmm_ended;
/* The chosen VMM process, held from the begin probe on; NULL: none chosen yet. */
static struct pid *qt_vmm;

/* Whether the current thread belongs to the chosen VMM process itself, not to a later owner of its pid. */
static int qt_in_vmm(void)
{
	return task_tgid(current) == READ_ONCE(qt_vmm);
}`,
  stap: String.raw`# The mtime of the libvirt pid file that -x came from (seconds since the epoch); 0: not given.
global qt_pidfile_time = 0

# Why -x PID is not a guest's VMM process, or "" when it is one (then the script holds that process).
function qt_vmm_problem:string(pid:long, pidfile_time:long) %{
	struct task_struct *task;
	int vm = 0;
	s64 started;

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
		/* The process's start, on the wall clock (start_boottime counts from boot). */
		started = div_s64(ktime_get_real_ns() - ktime_get_boottime_ns() + task->start_boottime, NSEC_PER_SEC);
		if (!vm)
			snprintf(STAP_RETVALUE, MAXSTRINGLEN, "qtrip: -x %lld ('%s') has no KVM virtual machine open: give the pid of the guest's VMM (QEMU) process",
				 (long long)STAP_ARG_pid, task->comm);
		/* QEMU writes its pid file after it starts; 2 s of slack for the clocks' rounding. */
		else if (STAP_ARG_pidfile_time && started > STAP_ARG_pidfile_time + 2)
			snprintf(STAP_RETVALUE, MAXSTRINGLEN, "qtrip: -x %lld ('%s') started %lld s after its pid file was written: the pid file is stale and the pid now belongs to another process (is the guest running?)",
				 (long long)STAP_ARG_pid, task->comm, (long long)(started - STAP_ARG_pidfile_time));
		else
			WRITE_ONCE(qt_vmm, get_pid(task_tgid(task)));
	}
	put_task_struct(task);
%}

# The chosen process is gone: its exit came before the exit probe was registered, or was missed.
probe timer.ms(${VMM_CHECK_MS}) {
	if (qt_vmm_gone())
		qt_vmm_exited()
}

function qt_vmm_gone:long() %{
	struct pid *vmm = READ_ONCE(qt_vmm);
	int gone;

	if (!vmm)
		STAP_RETURN(0);
	rcu_read_lock();
	gone = pid_task(vmm, PIDTYPE_PID) == NULL;
	rcu_read_unlock();
	STAP_RETURN(gone && atomic_cmpxchg(&qt_vmm_ended, 0, 1) == 0);
%}

function qt_vmm_exited() {
	qt_refuse(sprintf("qtrip: the guest's VMM process (pid %d) has exited: host probe disarmed; a restarted guest has a new pid: run the host script again with -x NEW_PID", target()))
}

probe end {
	qt_vmm_release()
}

function qt_vmm_release() %{
	put_pid(xchg(&qt_vmm, NULL));
%}

# The chosen VMM process has ended: its last thread is exiting (once, whichever thread that is).
probe kernel.trace("sched:sched_process_exit") {
	if (qt_vmm_ending($p))
		qt_vmm_exited()
}

function qt_in_vmm_now:long() %{ /* pure */
	STAP_RETURN(qt_in_vmm());
%}

function qt_vmm_ending:long(task:long) %{
	struct task_struct *p = (struct task_struct *)(unsigned long)STAP_ARG_task;
	STAP_RETURN(p->tgid == _stp_target && atomic_read(&p->signal->live) == 0 && atomic_cmpxchg(&qt_vmm_ended, 0, 1) == 0);
%}`,
};
