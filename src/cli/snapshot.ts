// The start-up snapshot's entry (dist/qtrip.blob): the parser is built and the
// pipeline warmed once, at install time, instead of on every run.
import { startupSnapshot } from "node:v8";
import { compileSource } from "../compile.js";
import { renderText } from "../diagnostics/render.js";
import { main } from "./entry.js";

const warm = compileSource("param p: int\nwhen syscall read latency > 1s on pid $p\nwhen bogus\n", { fileName: "warm.qt" });
for (const d of warm.diagnostics) renderText(d, { name: "warm.qt", text: "" });

// With a snapshot, process.argv is [node, ...arguments].
startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
