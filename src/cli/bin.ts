// The plain entry point (dist/qtrip.js): used when no start-up snapshot fits.
import { main } from "./entry.js";

await main(process.argv.slice(2));
