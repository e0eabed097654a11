// message "TEXT %u TEXT" > N  (or > D)
import { readLinePattern } from "./line-pattern.js";
import { condition } from "./spec.js";

export const messageValue = condition({
  id: "message-value",
  syntax: 'message "TEXT %u TEXT" > N',
  holds:
    "the guest kernel logged a line with the pattern's text before and after a decimal number, and that number is above N; a unit after %u (\"%u ns\", \"%ums\") makes it a duration, compared with a duration D; a line whose number does not parse (no digits, more than 64 bits) does not count",
  head: "message",
  pattern: [{ string: "text" }],
  threshold: false,
  reads: { pattern: "text" },
  subject: "logging task",
  watches: ({ strings }) => {
    const read = readLinePattern(strings.text);
    if (!("before" in read)) return `kernel log lines matching ${JSON.stringify(strings.text)}`;
    const unit = read.unit ? ` (in ${read.unit.word})` : "";
    return `kernel log lines with ${JSON.stringify(read.before)}, a number${unit}${read.after ? `, then ${JSON.stringify(read.after)}` : ""}`;
  },
  tripsWhen: (limit) => `when a line's number is ${limit}`,
  cost: { class: "low", detail: "one event per kernel log message; its text searched, and the digits after the match read" },
  caveats: [
    "an unprivileged guest user can put words and numbers of their choice into kernel log lines, so this rule can be tripped by any user of the guest; on context \"kernel\" keeps only the lines the kernel logged from a kernel thread or an interrupt",
    "the number compared is the first place in the line where the text before it, the digits and the text after it all match",
  ],
  example: 'when message "hrtimer: interrupt took %u ns" > 1000000 on context "kernel"',
  needs: ({ strings }) => {
    const read = readLinePattern(strings.text);
    if (!("before" in read)) throw new Error(`the pattern ${JSON.stringify(strings.text)} was not checked`);
    return { kind: "event", at: { on: "console-line" }, select: [{ kind: "line-number", before: read.before, after: read.after }] };
  },
});
