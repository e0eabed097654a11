// The lowering of the tests conditions make at events (a system call's number,
// a log line's text...), from the values each event offers.
import type { Selection } from "../../../stdlib/index.js";
import type { Fragment } from "./fragment.js";
import type { EventValues } from "./lowering.js";
import { compat, consoleSearch, lineStart, loggedFromKernel, loggedInHardIrq, tickGapPauses, tickTracking } from "./fragments/kernel-facts.js";
import { exceeds } from "./fragments/core.js";
import { lineNumber } from "./fragments/line-number.js";
import { receiveSilence } from "./fragments/network.js";
import { resumes, unpausedLateness } from "./fragments/pauses.js";
import { vcpuProgress } from "./fragments/vcpu-watch.js";
import { hex, stapString } from "./syntax.js";

export interface LoweredTest {
  test: string;
  /** Statements run once at the top of the handler, before any rule's test. */
  prelude?: string;
  fragments: Fragment[];
}

/** Linux's internal restart codes (ERESTARTSYS 512 … ERESTART_RESTARTBLOCK 516): seen at sys_exit, rewritten before user space sees them. */
const RESTART_CODES = "($ret > -512 || $ret < -516)";

function value<T>(v: T | undefined, selection: Selection): T {
  if (v === undefined) throw new Error(`the event has no value for a '${selection.kind}' test`);
  return v;
}

function anyOf(tests: string[]): string {
  return tests.length === 1 ? tests[0] : `(${tests.join(" || ")})`;
}

/** `countsPauses`: the rule counts the hypervisor's pauses of the whole guest in its durations (`counting pauses`). */
export function lowerSelection(selection: Selection, values: EventValues, rule: number, countsPauses = false): LoweredTest {
  switch (selection.kind) {
    case "syscall-is": {
      const nr = value(values.syscall, selection);
      return { test: `${anyOf(selection.numbers.map((n) => `${nr} == ${n}`))} && !qt_compat_task()`, fragments: [compat] };
    }
    case "syscall-failed": {
      const ret = value(values.result, selection);
      const failed = selection.errnos.length ? anyOf(selection.errnos.map((e) => `${ret} == -${e}`)) : `${ret} < 0 && ${ret} >= -4095 && ${RESTART_CODES.replaceAll("$ret", ret)}`;
      return { test: failed, fragments: [] };
    }
    case "line-contains": {
      const line = value(values.line, selection);
      return { test: anyOf(selection.texts.map((t) => `qt_text_contains(${line.text}, ${line.length}, ${stapString(t)})`)), fragments: [consoleSearch] };
    }
    case "line-starts": {
      const line = value(values.line, selection);
      return { test: anyOf(selection.texts.map((t) => `qt_text_starts(${line.text}, ${line.length}, ${stapString(t)})`)), fragments: [lineStart] };
    }
    case "line-number": {
      const line = value(values.line, selection);
      return {
        test: `qt_line_number_holds(${rule}, ${line.text}, ${line.length}, ${stapString(selection.before)}, ${stapString(selection.after)})`,
        fragments: [lineNumber],
      };
    }
    case "logged-from":
      return selection.context === "kernel"
        ? { test: "qt_logged_from_kernel()", fragments: [loggedFromKernel] }
        : { test: "qt_logged_in_hardirq()", fragments: [loggedInHardIrq] };
    case "signal-is": {
      const signal = value(values.signal, selection);
      return { test: `${signal.number} == ${selection.number} && ${signal.result} == 0`, fragments: [] };
    }
    case "tick-interval-exceeds":
      // Watched from another CPU while the gap lasts (the stamp is never true here), and measured at the first tick back,
      // where a rule that counts pauses adds those within the gap: no vCPU runs during one, to see it while it lasts.
      return {
        test: `(qt_vcpu_progress(${hex(2 ** rule)}) || qt_exceeds(${rule}, ${countsPauses ? "qt_gap + qt_tick_gap_pauses()" : "qt_gap"}))`,
        prelude: "qt_gap = qt_since_last_tick() # ns since this CPU's previous tick; 0 right after idle",
        fragments: [tickTracking, exceeds, vcpuProgress, ...(countsPauses ? [tickGapPauses] : [])],
      };
    case "progress-watched":
      // Records this CPU's progress for the rule; never true here: the watching CPU trips (fragments/vcpu-watch.ts).
      return { test: `qt_vcpu_progress(${hex(2 ** rule)})`, fragments: [vcpuProgress] };
    case "steal-share":
      // The window is the rule's threshold; the emitter adds the rings (fragments/steal.ts).
      return {
        test: `qt_steal_share(${rule}, ${selection.percent}, ${selection.inclusive ? 1 : 0})`,
        prelude: "qt_steal_sample() # this CPU's steal count, read once for every rule",
        fragments: [],
      };
    case "receive-silence-exceeds":
      // Stamped at the device's first transmit since it last received, cleared when it receives (runtime/network.ts).
      return {
        test: `qt_exceeds(${rule}, qt_silence)`,
        prelude: `qt_silence = qt_net_silence(${value(values.netDevice, selection)}) # ns since the device's first transmit after it last received`,
        fragments: [receiveSilence, exceeds],
      };
    case "expired-late": {
      // A timer may run before its hard expiry, within its slack: a negative lateness, which qt_exceeds (unsigned) must not see.
      return {
        test: `qt_late > 0 && qt_exceeds(${rule}, qt_late)`,
        prelude: `qt_late = qt_unpaused_late(${value(values.lateness, selection)}) # ns after the timer's hard expiry (less a pause's), read once for every rule`,
        fragments: [exceeds, unpausedLateness],
      };
    }
    case "vm-resumed":
      // Seen at the first clock read after the resume, on any vCPU (fragments/pauses.ts); once per resume.
      return { test: "qt_vm_resumed()", fragments: [resumes] };
  }
}
