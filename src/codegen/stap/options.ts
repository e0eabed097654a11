// The stap options every generated script needs; each script's header shows them in its command.
// -g: embedded C (the port write, the lock-free tables). --suppress-handler-errors, STP_NO_OVERLOAD
// and MAXSKIPPED: SystemTap would otherwise stop a trip-wire on its first run-time error, under
// load, or after 100 skipped probes. INTERRUPTIBLE=0 (guest): handlers run with interrupts off, so
// an interrupt's probe (a block request's completion) waits for the handler it interrupts instead
// of being skipped: SystemTap runs one handler per CPU at a time, and a lost stop is a false trip.
export const GUEST_STAP_OPTIONS = "-g --suppress-handler-errors -DINTERRUPTIBLE=0 -DSTP_NO_OVERLOAD -DMAXSKIPPED=1000000";
export const HOST_STAP_OPTIONS = "-g --suppress-handler-errors -DSTP_NO_OVERLOAD -DMAXSKIPPED=1000000";
