// The `qtrip` executable.
import { constants } from "node:os";
import { run } from "./main.js";

// An interrupt waits for the run to end: qtrip's runs are short and its writes
// synchronous, so a compile is either written whole or not started.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.exitCode = 128 + constants.signals[signal];
  });
}
process.exitCode = await run(process.argv.slice(2));
