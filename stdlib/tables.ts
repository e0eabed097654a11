// The name tables a condition's words are checked against, with the words the
// checker uses for them. syscalls, errnos and signals are generated from
// Linux's headers (tables/generate.mjs).
import { KERNEL_EVENTS, NETWORK_EVENTS } from "./kernel-events.js";
import type { ErrorCode } from "../src/diagnostics/registry.js";
import type { NameTable } from "./spec.js";
import errnos from "./tables/errnos.json" with { type: "json" };
import signals from "./tables/signals.json" with { type: "json" };
import syscalls from "./tables/syscalls-x86_64.json" with { type: "json" };

export interface NameTableInfo {
  names: Record<string, number>;
  /** "unknown <noun> 'x'". */
  noun: string;
  /** The diagnostic code for a name not in the table. */
  unknownCode: ErrorCode;
  /** A note under that diagnostic. */
  note?: string;
}

export const NAME_TABLES: Record<NameTable, NameTableInfo> = {
  syscall: { names: syscalls, noun: "system call", unknownCode: "E0142", note: "names are those of the x86_64 system call table" },
  errno: { names: errnos, noun: "errno name", unknownCode: "E0143" },
  signal: { names: signals, noun: "signal", unknownCode: "E0144" },
  event: {
    names: Object.fromEntries(KERNEL_EVENTS.map((name, i) => [name, i])),
    noun: "event",
    unknownCode: "E0145",
    note: `the events are: ${[...KERNEL_EVENTS, ...NETWORK_EVENTS].join(", ")}`,
  },
  direction: {
    names: { sent: 0, received: 1 },
    noun: "reset direction",
    unknownCode: "E0152",
    note: "a reset is 'sent' (by the guest) or 'received' (from its peer); leave the word out for both",
  },
};

/** The names alone, table by table. */
export const tables = Object.fromEntries(Object.entries(NAME_TABLES).map(([k, v]) => [k, v.names])) as Record<NameTable, Record<string, number>>;
