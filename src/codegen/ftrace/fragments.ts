// The fragments of shell every ftrace host script shares: options, the chosen
// VMM and its vCPU threads, tracefs and the script's own instance, clean-up on
// every exit, and the capture directory. POSIX sh only (busybox sh and dash run it), and
// nothing but tracefs, /proc and coreutils-or-busybox tools.
// (No `${…}` in these texts: they are JS templates; the shell does without.)

/** Options, messages and the chosen VMM, checked before anything is written to tracefs. */
export const setUp = String.raw`qt_say() { printf 'qtrip: %s\n' "$*"; }
# A line in the kernel log too, so the trip sits beside the host's own messages.
qt_kmsg() { qt_say "$*"; [ -w /dev/kmsg ] && printf 'qtrip: %s\n' "$*" > /dev/kmsg 2> /dev/null; return 0; }
qt_fail() { qt_say "$*" >&2; exit 1; }
qt_usage_error() { qt_say "$*" >&2; qt_usage >&2; exit 2; }
qt_number() { case $2 in '' | *[!0-9]*) qt_usage_error "$1 takes a number, not '$2'" ;; esac; }

qt_pid=
qt_domain=$QT_DOMAIN
qt_buffer_kb=$QT_BUFFER_KB
qt_captures=1
qt_capture_dir=/var/tmp
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) qt_usage; exit 0 ;;
	-x | --libvirt-domain | --buffer-kb | --captures | --capture-dir) [ $# -ge 2 ] || qt_usage_error "$1 takes a value" ;;
	*) qt_usage_error "unknown option '$1'" ;;
	esac
	case $1 in
	-x) qt_pid=$2 ;;
	--libvirt-domain) qt_domain=$2 ;;
	--buffer-kb) qt_buffer_kb=$2 ;;
	--captures) qt_captures=$2 ;;
	--capture-dir) qt_capture_dir=$2 ;;
	esac
	shift 2
done
qt_number --buffer-kb "$qt_buffer_kb"
qt_number --captures "$qt_captures"
[ "$qt_captures" -ge 1 ] || qt_usage_error "--captures takes 1 or more"
[ "$(id -u)" = 0 ] || qt_fail "run as root: it writes to tracefs"
if [ -z "$qt_pid" ]; then
	[ -n "$qt_domain" ] || qt_usage_error "no guest chosen: give -x VMM_PID (the guest's QEMU process) or --libvirt-domain NAME"
	case $qt_domain in
	[!A-Za-z0-9]* | *[!A-Za-z0-9._+-]*) qt_usage_error "--libvirt-domain '$qt_domain': a domain name of letters, digits and . _ + -" ;;
	esac
	read -r qt_pid < "/run/libvirt/qemu/$qt_domain.pid" || qt_fail "cannot read /run/libvirt/qemu/$qt_domain.pid: is domain '$qt_domain' running?"
fi
qt_number -x "$qt_pid"

# Field 22 of /proc/PID/stat, the start time: with the pid, it names one process even after the pid is reused.
# The name (field 2) may hold spaces, parentheses and newlines: the fields from 3 on follow the last ") ".
qt_start_time() {
	set -f
	set -- $(sed -n '$s/.*) //p' "/proc/$1/stat" 2> /dev/null)
	set +f
	[ $# -ge 20 ] && shift 19 && printf '%s' "$1"
}
qt_vmm_alive() { [ "$(qt_start_time "$qt_pid")" = "$qt_start" ]; }

qt_start=$(qt_start_time "$qt_pid")
[ -n "$qt_start" ] || qt_fail "-x $qt_pid: no such process: give the pid of the guest's VMM (QEMU) process"
qt_tgid=$(sed -n 's/^Tgid:[[:space:]]*//p' "/proc/$qt_pid/status")
[ "$qt_tgid" = "$qt_pid" ] || qt_fail "-x $qt_pid is a thread of process $qt_tgid: give the process's pid, -x $qt_tgid"
qt_vm=
for qt_fd in /proc/$qt_pid/fd/*; do
	[ "$(readlink "$qt_fd" 2> /dev/null)" = anon_inode:kvm-vm ] && qt_vm=1 && break
done
[ -n "$qt_vm" ] || qt_fail "-x $qt_pid ($(cat "/proc/$qt_pid/comm" 2> /dev/null)) has no KVM virtual machine open: give the pid of the guest's VMM (QEMU) process"
qt_vmm_alive || qt_fail "-x $qt_pid: the process ended while it was checked"

# The VMM's vCPU threads, "TID COMM" a line: QEMU names them "CPU N/KVM"; a VMM that does not
# (every thread of it then) has all its threads watched.
qt_thread_list() {
	qt_all=
	qt_vcpus=
	for qt_task in /proc/$qt_pid/task/*; do
		[ -r "$qt_task/comm" ] || continue
		read -r qt_comm < "$qt_task/comm" || continue
		qt_line="$(basename "$qt_task") $qt_comm
"
		case $qt_comm in "CPU "*/KVM) qt_vcpus="$qt_vcpus$qt_line" ;; esac
		qt_all="$qt_all$qt_line"
	done
	if [ -n "$qt_vcpus" ]; then printf '%s' "$qt_vcpus"; else printf '%s' "$qt_all"; fi
}
qt_tids_of() { printf '%s\n' "$1" | cut -d ' ' -f 1 | tr '\n' ' ' | sed 's/ $//'; }
# The filter on the thread ids given: "common_pid == T" each, a run of consecutive ids (QEMU's vCPU
# threads, mostly) as one range, so that a large VM's filter stays under tracefs's page-size limit.
qt_pid_filter() {
	qt_f=
	qt_lo=
	for qt_t in $(printf '%s\n' $1 | sort -n) ''; do
		if [ -n "$qt_lo" ] && [ -n "$qt_t" ] && [ "$qt_t" -eq $((qt_hi + 1)) ]; then
			qt_hi=$qt_t
			continue
		fi
		if [ -n "$qt_lo" ]; then
			[ -z "$qt_f" ] || qt_f="$qt_f || "
			if [ "$qt_lo" = "$qt_hi" ]; then qt_f="$qt_f""common_pid == $qt_lo"; else qt_f="$qt_f""(common_pid >= $qt_lo && common_pid <= $qt_hi)"; fi
		fi
		qt_lo=$qt_t
		qt_hi=$qt_t
	done
	printf '%s' "$qt_f"
}
# The threads watched, "TID COMM" lines and their ids (meta.json names those watched at the trip).
qt_thread_lines=$(qt_thread_list)
qt_threads=$(qt_tids_of "$qt_thread_lines")
[ -n "$qt_threads" ] || qt_fail "-x $qt_pid: no threads found in /proc/$qt_pid/task"
`;

/** tracefs, the instance, and clean-up on every way out (set before the first write). */
export const tracefs = String.raw`qt_mounted=
qt_instance=
qt_armed=
qt_write() { printf '%s\n' "$2" > "$1" || qt_fail "cannot write '$2' to $1"; }
qt_cleanup() {
	trap '' INT TERM HUP
	if [ -n "$qt_instance" ]; then
		[ -z "$qt_armed" ] || qt_disarm
		printf '0\n' > "$qt_instance/events/enable" 2> /dev/null
		if rmdir "$qt_instance" 2> /dev/null; then
			qt_say "removed tracefs instance $qt_instance"
		else
			qt_say "could not remove tracefs instance $qt_instance: remove it with rmdir" >&2
		fi
	fi
	[ -z "$qt_mounted" ] || umount "$qt_mounted" || qt_say "could not unmount $qt_mounted" >&2
}
# Every way out cleans up: the end, an error, and INT, TERM, HUP. (A shell started in the background
# by a script has INT ignored, and no shell can trap what it started with ignored: stop it with TERM.)
trap qt_cleanup EXIT
trap 'qt_say "SIGINT: disarming"; exit 130' INT
trap 'qt_say "SIGTERM: disarming"; exit 143' TERM
trap 'qt_say "SIGHUP: disarming"; exit 129' HUP

qt_tracefs=
for qt_dir in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$qt_dir/instances" ] && qt_tracefs=$qt_dir && break
done
if [ -z "$qt_tracefs" ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null || qt_fail "no tracefs: mount -t tracefs nodev /sys/kernel/tracing failed (a kernel without CONFIG_FTRACE?)"
	qt_mounted=/sys/kernel/tracing
	qt_tracefs=/sys/kernel/tracing
fi
[ -d "$qt_tracefs/events/kvm/kvm_pio" ] || qt_fail "no kvm:kvm_pio event in $qt_tracefs/events: is kvm loaded?"
# Its own instance, named after the case and this shell's pid: the top-level buffer and other
# instances (another case's, another tool's) are never touched.
qt_instance=$qt_tracefs/instances/qtrip-$QT_CASE_NAME-$$
mkdir "$qt_instance" 2> /dev/null || {
	qt_i=$qt_instance
	qt_instance=
	qt_fail "cannot create tracefs instance $qt_i (left by a run killed with SIGKILL? then rmdir it)"
}
qt_events=$qt_instance/events
qt_write "$qt_instance/buffer_size_kb" "$qt_buffer_kb"
# The perf clock is local_clock(), the kernel log's clock: trace and dmesg times compare.
qt_write "$qt_instance/trace_clock" perf
qt_trigger=$qt_events/kvm/kvm_pio/trigger
# traceoff before stacktrace: the kernel runs an event's triggers newest first, so the stack is taken before the stop.
qt_set_triggers() {
	qt_write "$qt_trigger" "traceoff if $QT_CHANNEL_FILTER && ($1)"
	qt_write "$qt_trigger" "stacktrace if $QT_CHANNEL_FILTER && ($1)"
}
qt_disarm() {
	printf '!stacktrace\n' > "$qt_trigger" 2> /dev/null
	printf '!traceoff\n' > "$qt_trigger" 2> /dev/null
	qt_armed=
}
# Each event of a list that this kernel has, enabled; qt_missing lists those it lacks.
qt_missing=
qt_enable() {
	for qt_e in $1; do
		if [ -d "$qt_events/$qt_e" ]; then
			qt_write "$qt_events/$qt_e/enable" 1
		else
			qt_missing="$qt_missing $qt_e"
		fi
	done
}
`;

/** The capture directory and its metadata (the contract with `qtrip report`). */
export const capture = String.raw`[ -d "$qt_capture_dir" ] && [ -w "$qt_capture_dir" ] || qt_usage_error "--capture-dir $qt_capture_dir: not a writable directory"
qt_json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\001-\037')"; }
# Seconds with 6 decimals (the trace's and dmesg's) → microseconds.
qt_us() { printf '%s' "$1" | sed 's/\.//; s/^0*//; s/^$/0/'; }
qt_captured=0
# Saves the stopped instance's buffer and meta.json in a new directory: qt_dir.
qt_capture() {
	qt_captured=$((qt_captured + 1))
	qt_base=$qt_capture_dir/qtrip-capture-$QT_CASE_NAME-$(date -u +%Y%m%dT%H%M%SZ)
	qt_dir=$qt_base
	qt_n=1
	until (umask 077 && mkdir "$qt_dir") 2> /dev/null; do
		qt_n=$((qt_n + 1))
		[ $qt_n -le 100 ] || qt_fail "cannot create a capture directory $qt_base (is --capture-dir $qt_capture_dir writable?)"
		qt_dir=$qt_base-$qt_n
	done
	cat "$qt_instance/trace" > "$qt_dir/trace.txt" || qt_fail "cannot save the trace into $qt_dir"
	# The trip: the channel write's kvm_pio record (the last one: the buffer stopped at it).
	qt_trip=$(sed -n "s/^ *.*-\([0-9][0-9]*\) *\[[0-9]*\].* \([0-9][0-9]*\.[0-9]*\): kvm_pio: pio_write at $QT_PORT size 1 count 1 val $QT_VALUE *$/\1 \2/p" "$qt_dir/trace.txt" | tail -n 1)
	qt_trip_tid=$(printf '%s' "$qt_trip" | cut -d ' ' -f 1)
	qt_trip_ts=$(printf '%s' "$qt_trip" | cut -d ' ' -f 2)
	qt_last_ts=$(sed -n 's/^.* \([0-9][0-9]*\.[0-9]*\): .*/\1/p' "$qt_dir/trace.txt" | tail -n 1)
	qt_vcpus_json=
	printf '%s\n' "$qt_thread_lines" > "$qt_dir/.threads"
	while read -r qt_t qt_c; do
		[ -z "$qt_vcpus_json" ] || qt_vcpus_json="$qt_vcpus_json, "
		qt_vcpus_json="$qt_vcpus_json{\"tid\": $qt_t, \"comm\": $(qt_json_string "$qt_c")}"
	done < "$qt_dir/.threads"
	rm -f "$qt_dir/.threads"
	{
		printf '{\n'
		printf '  "case": %s,\n  "title": %s,\n' "$QT_CASE_JSON" "$QT_TITLE_JSON"
		printf '  "action": "%s",\n' "$QT_ACTION"
		printf '  "vmmPid": %s,\n  "vcpuThreads": [%s],\n' "$qt_pid" "$qt_vcpus_json"
		printf '  "hostKernel": %s,\n' "$(qt_json_string "$(uname -r)")"
		printf '  "traceClock": %s,\n' "$(qt_json_string "$(sed 's/.*\[\(.*\)\].*/\1/' "$qt_instance/trace_clock")")"
		printf '  "tripTimestamp": %s,\n  "tripTid": %s,\n' "$([ -n "$qt_trip_ts" ] && printf '%s' "$qt_trip_ts" || printf null)" "$([ -n "$qt_trip_tid" ] && printf '%s' "$qt_trip_tid" || printf null)"
		printf '  "thresholdNs": %s,\n' "$QT_THRESHOLD_NS"
		printf '  "channel": {"port": %d, "value": %d},\n' "$QT_PORT" "$QT_VALUE"
		printf '  "bufferKb": %s,\n' "$qt_buffer_kb"
		printf '  "capturedAt": "%s"\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf '}\n'
	} > "$qt_dir/meta.json"
	if [ -n "$qt_trip_ts" ]; then
		qt_kmsg "TRIP case $QT_CASE_TEXT: vCPU thread $qt_trip_tid of VMM pid $qt_pid wrote $QT_VALUE to port $QT_PORT at $qt_trip_ts s (trace clock); stopped $(($(qt_us "$qt_last_ts") - $(qt_us "$qt_trip_ts"))) us later"
	else
		qt_kmsg "TRIP case $QT_CASE_TEXT: the buffer stopped, but its channel write record is missing (overwritten?)"
	fi
}
`;

/** The watch: the action's poll, the VMM's life, and its threads (re-read every second: vCPUs can be hot-added). */
export const watch = String.raw`qt_tick=0
while :; do
	qt_poll
	qt_vmm_alive || qt_fail "the guest's VMM process (pid $qt_pid) has exited: disarmed; a restarted guest has a new pid: run this script again with -x NEW_PID"
	qt_tick=$((qt_tick + 1))
	if [ $((qt_tick % 5)) = 0 ]; then
		qt_lines=$(qt_thread_list)
		qt_now=$(qt_tids_of "$qt_lines")
		if [ -n "$qt_now" ] && [ "$qt_now" != "$qt_threads" ]; then
			qt_threads=$qt_now
			qt_thread_lines=$qt_lines
			qt_watch_threads
			qt_say "the VMM's threads changed: now watching $qt_threads"
		fi
	fi
	sleep 0.2
done
`;
