// The ftrace backend's actions: what each records, how it arms on the channel
// write, what it does at the trip, and how it says so (header, `explain`).
// Each action's shell defines qt_watch_threads (filters and triggers for the
// current vCPU threads, called again when they change) and qt_poll (called
// every 0.2 s; exits when the last trip is handled).

export const FTRACE_ACTIONS = ["freeze", "stacks", "log"] as const;
export type FtraceAction = (typeof FTRACE_ACTIONS)[number];

/** KVM's events of the chosen VMM's threads that the flight recorder keeps (those this kernel has). */
export const KVM_EVENTS = [
  "kvm/kvm_entry",
  "kvm/kvm_exit",
  "kvm/kvm_pio",
  "kvm/kvm_mmio",
  "kvm/kvm_fast_mmio",
  "kvm/kvm_msr",
  "kvm/kvm_userspace_exit",
  "kvm/kvm_vcpu_wakeup",
  "kvm/kvm_halt_poll_ns",
];
/** The host's own events, every CPU: who ran instead of a vCPU thread, who woke it, where it moved; interrupts. */
export const HOST_EVENTS = [
  "sched/sched_switch",
  "sched/sched_wakeup",
  "sched/sched_migrate_task",
  "irq/irq_handler_entry",
  "irq/irq_handler_exit",
  "irq/softirq_entry",
  "irq/softirq_exit",
];

export interface FtraceActionRecord {
  /** The default ring buffer per CPU, KiB. */
  bufferKb: number;
  /** Whether the trip stops the buffer and saves a capture directory. */
  captures: boolean;
  kvmEvents: string[];
  hostEvents: string[];
  /** For the header: what it does. */
  doc: string;
  /** For `explain`: "…, and <explain>." */
  explain: string;
  /** The action's shell: qt_watch_threads and qt_poll. */
  shell: string;
}

/** Stops at the trip in the vCPU thread (traceoff, after a stacktrace), for the actions that capture. */
const stopAtTrip = String.raw`qt_watch_threads() {
	qt_f=$(qt_pid_filter "$qt_threads")
	for qt_e in $QT_KVM_EVENTS; do
		[ ! -d "$qt_events/$qt_e" ] || qt_write "$qt_events/$qt_e/filter" "$qt_f"
	done
	# One trigger of a kind per event: the old goes before the new (for a few microseconds, none is set).
	qt_disarm
	qt_set_triggers "$qt_f"
	qt_armed=1
}
# After a capture: done, or the buffer cleared and recording again for the next trip.
qt_next() {
	[ "$qt_captured" -lt "$qt_captures" ] || { qt_say "$qt_captured of $qt_captures captures taken: done"; exit 0; }
	: > "$qt_instance/trace"
	qt_write "$qt_instance/tracing_on" 1
	qt_say "re-armed for capture $((qt_captured + 1)) of $qt_captures"
}
`;

export const FTRACE_ACTION_RECORDS: Record<FtraceAction, FtraceActionRecord> = {
  freeze: {
    bufferKb: 4096,
    captures: true,
    kvmEvents: KVM_EVENTS,
    hostEvents: HOST_EVENTS,
    doc:
      "Action freeze, a flight recorder: its instance records the chosen VMM's KVM events (entries and\n" +
      "exits with their reasons, port I/O, MMIO, MSR, halt polling and wake-ups) and every host CPU's\n" +
      "scheduler events (switch, wakeup, migrate) and interrupts. At the trip, in the vCPU thread and\n" +
      "before KVM resumes the guest, a trigger takes that thread's stack and stops the buffer\n" +
      "(traceoff); the script then saves the buffer (trace.txt) and meta.json (case, VMM, vCPU threads,\n" +
      "host kernel, the trip's time in the trace clock, the rule's threshold) in a new directory\n" +
      "qtrip-capture-CASE-DATE under --capture-dir, and says where. The host runs on.",
    explain:
      "stops its flight recorder there, in the vCPU thread (the VMM's KVM entries, exits, port I/O, MMIO, MSR and halts, and the host's scheduler and interrupt events), takes that thread's stack, and saves the buffer and a meta.json into a capture directory; the host runs on",
    shell: String.raw`${stopAtTrip}qt_poll() {
	[ "$(cat "$qt_instance/tracing_on")" = 0 ] || return 0
	qt_capture
	qt_say "capture $qt_captured saved: $qt_dir (trace.txt, meta.json)"
	qt_next
}
`,
  },
  stacks: {
    bufferKb: 256,
    captures: true,
    kvmEvents: ["kvm/kvm_pio"],
    hostEvents: [],
    doc:
      "Action stacks: at the trip a trigger takes the vCPU thread's stack (before KVM resumes the guest)\n" +
      "and stops the instance's buffer; the script then asks for every host CPU's stack with sysrq l\n" +
      "(/proc/sysrq-trigger), saves them from the kernel log (cpu-stacks.txt) with the buffer and\n" +
      "meta.json in a capture directory, and says how long after the trip the CPUs' stacks were taken\n" +
      "(the script polls every 0.2 s: 0.2 to 0.4 s in the emulated host, more on a loaded one).",
    explain:
      "takes the vCPU thread's stack there, then every host CPU's stack with sysrq l (tenths of a second later: the script polls every 0.2 s), and saves them into a capture directory; the host runs on",
    shell: String.raw`${stopAtTrip}# Every CPU's stack, asked for at once: the write returns once the CPUs have printed them.
qt_ask_cpu_stacks() {
	qt_sysrq=
	if [ -w /proc/sysrq-trigger ] && printf 'l\n' > /proc/sysrq-trigger; then
		qt_sysrq=1
	else
		qt_say "sysrq l is not available here: no stacks of the host's CPUs"
	fi
}
# Saved from the kernel log, from sysrq's last heading on, into the capture directory.
qt_save_cpu_stacks() {
	[ -n "$qt_sysrq" ] || return 0
	dmesg > "$qt_dir/dmesg.tmp"
	qt_from=$(grep -n 'sysrq: Show backtrace of all active CPUs' "$qt_dir/dmesg.tmp" | tail -n 1 | cut -d : -f 1)
	if [ -n "$qt_from" ]; then tail -n +"$qt_from" "$qt_dir/dmesg.tmp"; else tail -n 200 "$qt_dir/dmesg.tmp"; fi > "$qt_dir/cpu-stacks.txt"
	rm -f "$qt_dir/dmesg.tmp"
	qt_first=$(sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p' "$qt_dir/cpu-stacks.txt" | head -n 1)
	if [ -n "$qt_first" ] && [ -n "$qt_trip_ts" ]; then
		qt_say "every CPU's stack (sysrq l): $qt_dir/cpu-stacks.txt, taken $(($(qt_us "$qt_first") - $(qt_us "$qt_trip_ts"))) us after the trip"
	else
		qt_say "every CPU's stack (sysrq l): $qt_dir/cpu-stacks.txt"
	fi
}
qt_poll() {
	[ "$(cat "$qt_instance/tracing_on")" = 0 ] || return 0
	qt_ask_cpu_stacks
	qt_capture
	qt_save_cpu_stacks
	qt_say "capture $qt_captured saved: $qt_dir (trace.txt with the vCPU thread's stack, cpu-stacks.txt, meta.json)"
	qt_next
}
`,
  },
  log: {
    bufferKb: 64,
    captures: false,
    kvmEvents: ["kvm/kvm_pio"],
    hostEvents: [],
    doc:
      "Action log: rehearsal. The instance records only the chosen VMM's channel writes (kvm_pio);\n" +
      "the script prints each one (and puts it in the kernel log) and does nothing else.",
    explain: "records it in its instance and prints it (rehearsal: nothing else happens)",
    shell: String.raw`qt_watch_threads() {
	qt_write "$qt_events/kvm/kvm_pio/filter" "$QT_CHANNEL_FILTER && ($(qt_pid_filter "$qt_threads"))"
}
qt_seen=0
qt_poll() {
	qt_n=$(grep -c ': kvm_pio: ' "$qt_instance/trace")
	[ "$qt_n" -gt "$qt_seen" ] || return 0
	grep ': kvm_pio: ' "$qt_instance/trace" | tail -n $((qt_n - qt_seen)) | while IFS= read -r qt_line; do
		qt_kmsg "TRIP (rehearsal: log only) case $QT_CASE_TEXT: $qt_line"
	done
	qt_seen=$qt_n
	[ "$qt_seen" -lt "$qt_captures" ] || { qt_say "$qt_seen of $qt_captures trips logged: done"; exit 0; }
}
`,
  },
};
