// SystemTap fragments several conditions share.
import { stapString } from "../src/codegen/stap-syntax.js";
import type { Attribute } from "../src/stdlib.js";

/** Filter attributes of the task running when the probe fires. */
export const CURRENT_TASK: Partial<Record<Attribute, string>> = {
  pid: "pid()",
  tid: "tid()",
  comm: "execname()",
  uid: "uid()",
  cpu: "cpu()",
};

/** A thread that dies inside what was timed never reaches the stop probe: forget it when it exits. */
export const THREAD_EXIT_STOP = {
  probe: 'kernel.trace("sched:sched_process_exit")',
  key: "tid()",
  reason: "the thread exited before it ended (exit, exit_group, or killed while blocked)",
};

/**
 * Each line the kernel prints to its consoles. The text is not NUL-terminated
 * and may be longer than a SystemTap string: qt_text_contains() searches it in C.
 */
export const CONSOLE_PROBE = 'kernel.trace("printk:console")';

/** In CONSOLE_PROBE: the line contains `needle` (passed as a SystemTap string: data, never code). */
export function consoleLineContains(needle: string): string {
  return `qt_text_contains($text, $len, ${stapString(needle)})`;
}

/** x86_64 system call numbers: a 32-bit (compat) task's numbers mean other calls. */
export function syscallSelect(numbers: number[], nr: string): string | undefined {
  if (numbers.length === 0) return undefined;
  return `(${numbers.map((n) => `${nr} == ${n}`).join(" || ")}) && !qt_compat_task()`;
}
