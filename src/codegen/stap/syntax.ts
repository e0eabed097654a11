// SystemTap syntax helpers: every string that reaches a generated script goes
// through one of these, so that rule-file text is only ever data.

/**
 * A SystemTap string literal. Printable ASCII stays as it is, except the quote,
 * the backslash and '%' (kept out of anything that could read as a format or a
 * preprocessor directive); every other byte of the UTF-8 text is an octal escape.
 */
export function stapString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    const printable = byte >= 0x20 && byte <= 0x7e && byte !== 0x22 && byte !== 0x5c && byte !== 0x25;
    out += printable ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `${out}"`;
}

/** Text for a `#` comment line: anything that could end the line or confuse a terminal becomes a space. */
export function commentText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}

/** A 64-bit integer literal (durations in ns, ids, masks). */
export function stapInt(value: bigint | number): string {
  return BigInt(value).toString();
}

export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
