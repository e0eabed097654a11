// What every way of starting qtrip runs: holds interrupts until the run ends
// (qtrip's runs are short and its writes synchronous, so a compile is either
// written whole or not started), then sets the exit status. The language
// server is the exception: it runs until its client ends it.
import { constants } from "node:os";
import { run } from "./main.js";

export async function main(argv: string[]): Promise<void> {
  const holdSignals = argv[0] !== "lsp";
  for (const signal of holdSignals ? (["SIGINT", "SIGTERM", "SIGHUP"] as const) : []) {
    process.on(signal, () => {
      process.exitCode = 128 + constants.signals[signal];
    });
  }
  process.exitCode = await run(argv);
}
