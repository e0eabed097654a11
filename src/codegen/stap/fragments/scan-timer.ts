// The scan of the in-flight tables: each table's one-shot hrtimer fires at the
// earliest moment something in it could cross a threshold, trips what did (from
// C: the callback runs in hard-IRQ context, where no SystemTap function runs),
// and re-arms for the next such moment, or stays off while nothing is in flight.
// No periodic timer: an idle CPU is woken by nothing. Rule labels reach C only as
// SystemTap string arguments, copied once when the script starts.
import type { Fragment } from "../fragment.js";
import { counting } from "./counting.js";
import { delays } from "./core.js";
import { inflight } from "./inflight.js";
import { pauseHistory } from "./pauses.js";
import { returnProbes } from "./return-probes.js";

export interface ScanRules {
  /** Bit r: rule r's occurrences are counted (`N times within D`) before it trips. */
  counted: bigint;
  /** Bit r: part r belongs to a sequence; its verdict is qt_sequence_holds() (fragments/sequences.ts), before any count. */
  sequenced: bigint;
  /** Some rule has an `after D` delay. */
  delayed: boolean;
  /** Some table times calls to their return probe, which may have had no instance (fragments/return-probes.ts). */
  returns: boolean;
  /** Bit r: rule r counts the hypervisor's pauses (`counting pauses`): they shorten its due time, and each resume scans at once. */
  pausing: bigint;
}

export function scanTimer({ counted, sequenced, delayed, returns, pausing }: ScanRules): Fragment {
  // A rule that counts pauses is due earlier by the pauses seen since the start (fragments/pauses.ts leaves them out of qtrip's clock).
  const pausingMask = `0x${pausing.toString(16)}ULL`;
  const reach = pausing ? `qt_less(start + qt_threshold[r] + 1, (${pausingMask} >> r & 1) ? paused : 0)` : "start + qt_threshold[r] + 1";
  // A rule with an 'after' delay is not looked at before the delay ends.
  const due = delayed ? `max(${reach}, qt_after[r] ? qt_armed_at + qt_after[r] : 0)` : reach;
  // A due call without a return probe was never timed: no trip; counted and said.
  const unprobed = returns
    ? String.raw`
			if (frame && !qt_return_probed(frame)) {
				late = rules;
				qt_lost_return(qt_labels[r]);
				break;
			}`
    : "";
  // A sequence's second part counts only within its window (its first part never trips); a count counts what does.
  const inWindow = sequenced ? ` && (!(0x${sequenced.toString(16)}ULL >> r & 1) || qt_sequence_holds(r))` : "";
  const occurred = `${inWindow}${counted ? ` && (!(0x${counted.toString(16)}ULL >> r & 1) || qt_held(r, late[r]))` : ""}`;
  return {
    name: "scan timers",
    requires: [inflight, ...(counted ? [counting] : []), ...(delayed ? [delays] : []), ...(returns ? [returnProbes] : []), ...(pausing ? [pauseHistory] : [])],
    probes: ["begin(-1)", "end"],
    c: String.raw`static char qt_labels[QT_RULES][MAXSTRINGLEN]; /* the timed rules' labels, copied when the script starts */

/* Counts in late[r] what crossed rule r's threshold; lowers *next to when the next thing could. Returns the rules with any. */
static u64 qt_scan(int table, u32 *late_counts, u64 *next)
{
	u64 now = qt_clock(), found = 0;
	int i, r, untracked = atomic_read(&qt_untracked);

	/* A trip-wire that stops seeing says so while armed; deferred like the trip's line: a direct print could drain the console backlog here, in hard-IRQ context, and delay the scan. */
	if (untracked != qt_untracked_said && printk_ratelimit()) {
		qt_log_deferred(KERN_WARNING "qtrip: %d starts not timed so far: all %d slots an in-flight table offers their key were taken (the table is full or crowded there: raise -DQT_INFLIGHT_SLOTS)\n", untracked, QT_PROBE_RUN);
		qt_untracked_said = untracked;
	}
	qt_say_skipped("so far", 1);
	for (i = 0; i < QT_INFLIGHT_SLOTS; i++) {
		struct qt_slot *s = &qt_inflight[table][i];
		u64 start, rules, late, due;${pausing ? "\n\t\tu64 paused;" : ""}${returns ? "\n\t\tunsigned long frame;" : ""}

		if (!atomic_long_read(&s->key))
			continue;
		start = READ_ONCE(s->start);
		if (!start) /* being filled: its start arms the timer */
			continue;
		smp_rmb();
		rules = READ_ONCE(s->rules);${returns ? "\n\t\tframe = READ_ONCE(s->frame);" : ""}
		late = READ_ONCE(s->late_for) == start ? READ_ONCE(s->late) : 0;${pausing ? `\n\t\tpaused = rules & ${pausingMask} ? qt_pauses_since(start) : 0;` : ""}
		for (r = 0; r < QT_RULES; r++) {
			u64 bit = 1ULL << r;
			if (!(rules & bit) || (late & bit))
				continue;
			due = ${due};
			if (now < due) {
				*next = min(*next, due);
				continue;
			}
			smp_rmb();
			if (READ_ONCE(s->start) != start) /* it ended meanwhile */
				break;${unprobed}
			late |= bit;
			late_counts[r]++;
			found |= bit;
		}
		if (late) {
			WRITE_ONCE(s->late, late);
			WRITE_ONCE(s->late_for, start);
		}
	}
	return found;
}

${pausing ? String.raw`/* At each resume (fragments/pauses.ts): a rule that counts pauses may be due by the pause, so every table with something in flight is scanned at once. */
static void qt_scan_resumed(void)
{
	int t;
	for (t = 0; t < QT_TABLES; t++)
		if (atomic_read(&qt_occupied[t]))
			qt_due_by(t, ktime_get_mono_fast_ns() - atomic64_read(&qt_paused));
}

` : ""}/* A table's scan: trips what is late, re-arms for what is next, or stays off. Hard-IRQ context. */
static enum hrtimer_restart qt_scan_due(struct hrtimer *timer)
{
	struct qt_scan_timer *t = container_of(timer, struct qt_scan_timer, timer);
	u32 late[QT_RULES] = { 0 };
	u64 next = U64_MAX, found;
	int r;

	/* Off first: what starts from now on arms it again; what started before, this scan sees. */
	atomic64_set(&t->due, S64_MAX);
	smp_mb();
	if (atomic_read(&qt_tripped))
		return HRTIMER_NORESTART;
	found = qt_scan(t->table, late, &next);
	for (r = 0; r < QT_RULES; r++)
		if ((found >> r & 1)${occurred}) {
			qt_trip(qt_labels[r]);
			return HRTIMER_NORESTART;
		}
	if (next != U64_MAX && qt_due_earlier(t, next))
		qt_program(t);
	return HRTIMER_NORESTART;
}`,
    stap: String.raw`function qt_set_label(rule:long, label:string) %{
	strscpy(qt_labels[STAP_ARG_rule], STAP_ARG_label, MAXSTRINGLEN); /* strlcpy is gone since 6.8 */
%}

# The scan timers: set up before any probe can start timing, cancelled once the probes are gone (end probes run then).
probe begin(-1) { qt_scan_timers(1) }
probe end { qt_scan_timers(0) }

function qt_scan_timers(on:long) %{
	int t${pausing ? ", pass" : ""};${pausing ? `
	/* Off before the timers go: a resume after this scans nothing. The teardown runs twice: a scan that took a resume meanwhile may have moved another table's timer. */
	if (!STAP_ARG_on)
		WRITE_ONCE(qt_resume_hook, NULL);
	smp_mb();` : ""}
${pausing ? "\tfor (pass = 0; pass < (STAP_ARG_on ? 1 : 2); pass++)\n" : ""}	for (t = 0; t < QT_TABLES; t++) {
		struct qt_scan_timer *s = &qt_timers[t];
		if (STAP_ARG_on) {
			hrtimer_init(&s->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_PINNED_HARD);
			s->timer.function = qt_scan_due;
			init_irq_work(&s->program, qt_program_work);
			s->remote.func = qt_program_here;
			s->remote.info = s;
			atomic_set(&s->calling, 0);
			atomic64_set(&s->due, S64_MAX);
			s->table = t;
		} else {
			/* No probe starts anything now: after the IRQ work and the calls on their way, nothing programs it. */
			irq_work_sync(&s->program);
			qt_neighbour_calls_wait(&s->calling);
			hrtimer_cancel(&s->timer);
		}
	}${pausing ? `
	if (STAP_ARG_on) {
		smp_mb(); /* the timers set up before a resume can program them */
		WRITE_ONCE(qt_resume_hook, qt_scan_resumed);
	}` : ""}
%}`,
  };
}
