// POSIX sh syntax for the BPF backend's script: outside text is only ever a
// single-quoted word.

/** One shell word that is exactly `text`. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
