// A small trace written by hand in 6.1's layout, whose every number is known:
// vCPU 0 (tid 1000) on CPU 1 runs the guest, exits on a nested page fault, is
// preempted by a SCHED_FIFO 50 kworker for 150 ms, runs again and trips.
import type { CaptureMeta } from "../../src/report/events.js";

export const SYNTHETIC = `# tracer: nop
#
# entries-in-buffer/entries-written: 9/9   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
       CPU 0/KVM-1000    [001] d..2.   100.000000: kvm_entry: vcpu 0, rip 0x1000
       CPU 0/KVM-1000    [001] d..2.   100.100000: kvm_exit: vcpu 0 reason EXIT_NPF rip 0x1000 info1 0x0000000000000004 info2 0x0000000000001000 intr_info 0x00000000 error_code 0x00000000
       CPU 0/KVM-1000    [001] d..2.   100.110000: sched_switch: prev_comm=CPU 0/KVM prev_pid=1000 prev_prio=120 prev_state=R+ ==> next_comm=kworker/1:1 next_pid=77 next_prio=49
     kworker/1:1-77      [001] d..2.   100.260000: sched_switch: prev_comm=kworker/1:1 prev_pid=77 prev_prio=49 prev_state=S ==> next_comm=CPU 0/KVM next_pid=1000 next_prio=120
       CPU 0/KVM-1000    [001] d..2.   100.270000: kvm_entry: vcpu 0, rip 0x1000
       CPU 0/KVM-1000    [001] d..2.   100.290000: kvm_exit: vcpu 0 reason EXIT_IOIO rip 0x1004 info1 0x03ff0010 info2 0x0000000000001005 intr_info 0x00000000 error_code 0x00000000
       CPU 0/KVM-1000    [001] d..2.   100.300000: kvm_pio: pio_write at 0x3ff size 1 count 1 val 0x1f 
       CPU 0/KVM-1000    [001] d..2.   100.300000: <stack trace>
 => kvm_fast_pio
 => kvm_arch_vcpu_ioctl_run
 => kvm_vcpu_ioctl
`;

export const SYNTHETIC_META: CaptureMeta = {
  case: "SYNTH",
  vmmPid: 999,
  vcpuThreads: [{ tid: 1000, comm: "CPU 0/KVM" }],
  tripTime: 100.3e9,
  tripTid: 1000,
  thresholdNs: 200e6,
};

export const SYNTHETIC_META_JSON = JSON.stringify({ ...SYNTHETIC_META, tripTime: undefined, tripTimestamp: 100.3 }, null, 2);
