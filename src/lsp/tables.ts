// What a name in the specs' name tables stands for, in words: for
// completion details and hover.
import { getSystemErrorMap } from "node:util";
import { specs, tables, type NameTable } from "./compiler.js";

/** libuv's errno messages (node's own), keyed by name: they have meanings for the common errnos. */
let errnoMeanings: Map<string, string> | undefined;

function errnoMeaning(name: string, number: number): string | undefined {
  errnoMeanings ??= new Map([...getSystemErrorMap()].map(([code, [errName, message]]) => [`${errName}/${-code}`, message]));
  return errnoMeanings.get(`${name}/${number}`);
}

export function lookUp(table: NameTable, name: string): number | undefined {
  return Object.hasOwn(tables[table], name) ? tables[table][name] : undefined;
}

/** One line: `system call 0 (x86_64)`, `errno 2: no such file or directory`, `signal 9`, `kernel event`. */
export function describeName(table: NameTable, name: string): string | undefined {
  const number = lookUp(table, name);
  if (number === undefined) return undefined;
  switch (table) {
    case "syscall":
      return `system call ${number} (x86_64)`;
    case "errno": {
      const meaning = errnoMeaning(name, number);
      return `errno ${number}${meaning ? `: ${meaning}` : ""}`;
    }
    case "signal":
      return `signal ${number}`;
    case "event":
      return "guest kernel event";
    case "direction":
      return name === "sent" ? "resets the guest sends" : "resets the guest receives from its peers";
  }
}

/** Markdown for a hover on a name. */
export function nameHover(table: NameTable, name: string): string | undefined {
  const line = describeName(table, name);
  if (line === undefined) return undefined;
  const event = table === "event" ? specs.find((e) => e.head === "event") : undefined;
  return [`**${name}**: ${line}`, ...(event ? ["", `\`${event.syntax}\`: ${event.holds}`] : [])].join("\n");
}
