// POSIX shell syntax helpers for generated shell scripts: every outside text
// (a file name, a case, a title, a domain) reaches a script through one of these.

/** One shell word that is exactly `text`: single quotes, each quote in it closed, escaped and reopened. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Text for a `#` comment line: anything that could end the line or confuse a terminal becomes a space. */
export function shellComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}
