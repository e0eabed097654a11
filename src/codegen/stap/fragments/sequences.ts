// `when A then B within D`: A and B are parts of their own (each with its bit,
// threshold and filters). Where A would trip, it stamps the time instead; B trips
// only when it holds within D of the latest stamp. One 64-bit stamp per A, written
// and read whole: no lock, so it works from handlers, the in-flight scan (hard IRQ)
// and the vCPU watch alike.
import type { Fragment } from "../fragment.js";
import { pauses } from "./pauses.js";

export interface SequenceParts {
  /** Bit r: part r is a sequence's first condition (A). */
  firsts: bigint;
}

export function sequences({ firsts }: SequenceParts): Fragment {
  return {
    name: "sequences",
    requires: [pauses],
    c: String.raw`#include <linux/atomic.h>
#include <linux/timekeeping.h>

#define QT_SEQUENCE_FIRSTS 0x${firsts.toString(16)}ULL /* the parts that are a sequence's first condition */
static atomic64_t qt_sequence_at[QT_RULES];	/* first part r: when it last held (ns); 0: not yet */
static int qt_sequence_first[QT_RULES];	/* second part r: its first part */
static u64 qt_sequence_window[QT_RULES];	/* second part r: D (ns) */

/*
 * Part r of a sequence held just now. A first part stamps the time and does not trip: each time it
 * holds, the window starts again. A second part holds when its own moment falls in the window: at or
 * after the latest stamp, at most D after it (a stamp from another CPU's clock a little ahead is "after").
 */
static int qt_sequence_holds(int r)
{
	u64 now = qt_clock(), at;

	if (QT_SEQUENCE_FIRSTS >> r & 1) {
		atomic64_set(&qt_sequence_at[r], now);
		return 0;
	}
	at = atomic64_read(&qt_sequence_at[qt_sequence_first[r]]);
	return at && now >= at && now - at <= qt_sequence_window[r];
}`,
    stap: String.raw`function qt_set_sequence(second:long, first:long, window:long) %{
	qt_sequence_first[STAP_ARG_second] = STAP_ARG_first;
	qt_sequence_window[STAP_ARG_second] = STAP_ARG_window;
%}`,
  };
}

/** A sequence's part seen at an event (the in-flight scan and the vCPU watch call qt_sequence_holds() from C). */
export function sequenceAtEvent(fragment: Fragment): Fragment {
  return {
    name: "sequences at events",
    requires: [fragment],
    stap: String.raw`function qt_sequence:long(rule:long) %{
	STAP_RETURN(qt_sequence_holds(STAP_ARG_rule));
%}`,
  };
}
