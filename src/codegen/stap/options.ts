// The stap options every generated script needs; each script's header shows them in its command.
// -g: embedded C (the port write, the lock-free tables). --suppress-handler-errors, STP_NO_OVERLOAD
// and MAXSKIPPED: SystemTap would otherwise stop a trip-wire on its first run-time error, under
// load, or after 100 skipped probes.
export const GUEST_STAP_OPTIONS = "-g --suppress-handler-errors -DSTP_NO_OVERLOAD -DMAXSKIPPED=1000000";
export const HOST_STAP_OPTIONS = GUEST_STAP_OPTIONS;
