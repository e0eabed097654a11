// Formatting through prettier with qtrip's plugin. Loaded only by `qtrip fmt`,
// so that other commands never pay for prettier.
import * as prettier from "prettier";
import plugin from "./plugin.js";

export function formatSource(text: string): Promise<string> {
  return prettier.format(text, { parser: "qtrip", plugins: [plugin], filepath: "rule.qt" });
}
