// Refusing to arm, in guest and host scripts alike. Not SystemTap's error():
// with --suppress-handler-errors (which both scripts need) error() in a begin
// probe is only counted, and the probes stay armed. This does by hand what stap
// does for an unsuppressed error: the session never becomes RUNNING, so no
// probe handler runs, and staprun exits 1 with the message. The message is an
// argument, never a format.
export const REFUSE_C = String.raw`function qt_refuse(message:string) %{
	_stp_error("%s", STAP_ARG_message);
	/* Also in the kernel log: a detached start (staprun -L, stap -F) never shows _stp_error's. */
	printk(KERN_ERR "%s\n", STAP_ARG_message);
	atomic_inc(error_count());
	atomic_set(session_state(), STAP_SESSION_ERROR);
	_stp_exit();
%}
`;
