// The `qtrip` executable.
import { constants } from "node:os";
import { run } from "./main.js";

// An interrupt waits for the run to end: qtrip's work is synchronous and short,
// so a compile is either written whole or not started, never half-written.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.exitCode = 128 + constants.signals[signal];
  });
}
process.exitCode = run(process.argv.slice(2));
