// POSIX shell syntax helpers: every outside text (a file name, a libvirt domain)
// that reaches a generated shell script, or a shell command shown in a comment,
// goes through one of these, so that it is only ever data.

/** One shell word that stands for exactly `text`: as it is when it is plain, else in single quotes. */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Text for a shell `#` comment line: anything that could end the line or confuse a terminal becomes a space. */
export function shellComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}
