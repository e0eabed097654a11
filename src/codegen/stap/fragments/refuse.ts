// Refusing to arm, in guest and host scripts alike. Not SystemTap's error():
// with --suppress-handler-errors (which both scripts need) error() in a begin
// probe is only counted, and the probes stay armed. This does by hand what stap
// does for an unsuppressed error: the session never becomes RUNNING, so no
// probe handler runs, and staprun exits 1 with the message. The message is an
// argument, never a format.
import type { Fragment } from "../fragment.js";

export const refuse: Fragment = {
  name: "refusal",
  stap: String.raw`function qt_refuse(message:string) %{
	_stp_error("%s", STAP_ARG_message);
	/* Also in the kernel log: a detached start (staprun -L, stap -F) never shows _stp_error's. */
	printk(KERN_ERR "%s\n", STAP_ARG_message);
	atomic_inc(error_count());
	atomic_set(session_state(), STAP_SESSION_ERROR);
	_stp_exit();
%}`,
};

/** Run-time duration parameters ("20ms", "1.5s") are strings, parsed when the script starts; -1 when one is not a duration. */
export const durations: Fragment = {
  name: "run-time durations",
  stap: String.raw`function qt_parse_duration:long(text:string) %{
	const char *p = STAP_ARG_text;
	u64 whole = 0, fraction = 0, scale = 1, unit = 0;
	int digits = 0, fraction_digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > 922337203685ULL) { STAP_RETURN(-1); }
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fraction_digits++) {
			if (fraction_digits >= 9) { STAP_RETURN(-1); }
			fraction = fraction * 10 + (*p - '0');
			scale *= 10;
		}
		if (!fraction_digits) { STAP_RETURN(-1); }
	}
	if (!digits) { STAP_RETURN(-1); }
	if (!strcmp(p, "ns")) unit = 1;
	else if (!strcmp(p, "us")) unit = 1000;
	else if (!strcmp(p, "ms")) unit = 1000000;
	else if (!strcmp(p, "s")) unit = 1000000000ULL;
	else if (!strcmp(p, "m")) unit = 60000000000ULL;
	else if (!strcmp(p, "h")) unit = 3600000000000ULL;
	else { STAP_RETURN(-1); }
	if (whole > (u64)S64_MAX / unit || (fraction * unit) % scale) { STAP_RETURN(-1); }
	STAP_RETURN(whole * unit + fraction * unit / scale);
%}`,
};
