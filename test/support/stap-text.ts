// The code of a SystemTap script without its string literals and comments: two
// scripts that differ only in data and comments have the same skeleton. Embedded
// C blocks (%{ … %}) are kept whole: qtrip never puts rule-file text in them.
export function stapSkeleton(script: string): string {
  let out = "";
  let i = 0;
  while (i < script.length) {
    const rest = script.slice(i, i + 2);
    if (rest === "%{") {
      const end = script.indexOf("%}", i + 2);
      if (end === -1) throw new Error("unterminated embedded C block");
      out += script.slice(i, end + 2);
      i = end + 2;
    } else if (script[i] === "#" || rest === "//") {
      while (i < script.length && script[i] !== "\n") i++;
    } else if (rest === "/*") {
      const end = script.indexOf("*/", i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (script[i] === '"') {
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === "\n") throw new Error("newline inside a string literal");
        i += script[i] === "\\" ? 2 : 1;
      }
      i++;
      out += '""';
    } else {
      out += script[i++];
    }
  }
  return out.replace(/[ \t]+\n/g, "\n").replace(/\n{2,}/g, "\n");
}
