// A number read from a kernel log line where a pattern says, compared with
// each rule's least (set when the script starts). The line is read in place:
// no copy, no allocation, one pass bounded by its length (at most ~1 KB).
import type { Fragment } from "../fragment.js";

export const lineNumber: Fragment = {
  name: "numbers in log lines",
  c: String.raw`#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/string.h>

static u64 qt_least[QT_RULES]; /* rule r holds for a number n >= qt_least[r], in the line's own unit */

/*
 * The number a console line carries at the first place where it has before, decimal digits,
 * then after: 1 and *number, or 0 when it has none (no digits there, or more than 64 bits
 * of them). Each place where before starts is tried once. qtrip's own lines never count.
 */
static int qt_line_number(const char *text, long len, const char *before, const char *after, u64 *number)
{
	long nb = strlen(before), na = strlen(after);
	const char *at = text, *end, *p;

	if (!text || len <= 0 || nb == 0 || strnstr(text, "qtrip: ", len))
		return 0;
	end = text + len;
	while (end - at >= nb && (at = strnstr(at, before, end - at)) != NULL) {
		u64 n = 0;
		int fits = 1;

		p = at + nb;
		at++;
		if (p >= end || *p < '0' || *p > '9')
			continue;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (n > (U64_MAX - (*p - '0')) / 10)
				fits = 0;
			else
				n = n * 10 + (*p - '0');
		}
		if (fits && end - p >= na && memcmp(p, after, na) == 0) {
			*number = n;
			return 1;
		}
	}
	return 0;
}`,
  stap: String.raw`function qt_line_number_holds:long(rule:long, text:long, len:long, before:string, after:string) %{
	u64 n;
	STAP_RETURN(qt_line_number((const char *)(unsigned long)STAP_ARG_text, STAP_ARG_len, STAP_ARG_before, STAP_ARG_after, &n)
		    && n >= qt_least[STAP_ARG_rule]);
%}

/*
 * Rule r's least number: '> bound' and '>= bound' in the line's unit (unit ns each; 1 for a
 * plain number), rounded so that n >= least exactly when n * unit compares with bound; a
 * negative bound (an int parameter) lets every number through.
 */
function qt_set_least(rule:long, bound:long, unit:long, inclusive:long) %{
	u64 q, r;

	if (STAP_ARG_bound < 0 || STAP_ARG_unit < 1) {
		qt_least[STAP_ARG_rule] = 0;
	} else {
		q = (u64)STAP_ARG_bound / (u64)STAP_ARG_unit;
		r = (u64)STAP_ARG_bound % (u64)STAP_ARG_unit;
		qt_least[STAP_ARG_rule] = STAP_ARG_inclusive ? q + (r != 0) : q + 1;
	}
%}`,
};
