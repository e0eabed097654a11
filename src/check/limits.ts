// Bounds on what a rule file may ask for; each is checked with a diagnostic.

/** Longest duration: what fits a signed 64-bit count of nanoseconds (about 292 years). */
export const MAX_NANOSECONDS = 2n ** 63n - 1n;
/** Largest N of `N times within D`: the guest keeps N timestamps per rule. */
export const MAX_TIMES = 100_000n;
/** Longest case, title, label, device or message text, in bytes: a SystemTap string holds 127 (MAXSTRINGLEN 128). */
export const MAX_TEXT_BYTES = 127;
/** A task's comm is at most 15 bytes (TASK_COMM_LEN 16 with its NUL). */
export const MAX_COMM_BYTES = 15;
/** Kernel symbol names: KSYM_NAME_LEN is 128 before 6.1 (512 since), with its NUL. */
export const MAX_SYMBOL_BYTES = 127;
/** Bitmasks of rules sharing a probe are one 64-bit word. */
export const MAX_RULES = 64;
/** Largest value of each integer filter. */
export const MAX_ATTRIBUTE_VALUE: Record<string, bigint> = {
  pid: 4_194_304n, // PID_MAX_LIMIT on 64-bit
  tid: 4_194_304n,
  uid: 4_294_967_294n, // (uid_t)-1 is "no user"
  cpu: 8_191n, // NR_CPUS at most 8192 on x86_64
};
