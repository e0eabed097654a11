import { defineConfig } from "vitest/config";

/** SystemTap's build cache for the tests, in the machine's cache beside the runtime copy (test/global-setup.ts). */
const SYSTEMTAP_DIR = process.env.SYSTEMTAP_DIR ?? "/var/cache/qtrip/systemtap";
process.env.SYSTEMTAP_DIR = SYSTEMTAP_DIR;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // stap builds and QEMU boots are CPU-bound: two workers for two cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    globalSetup: ["test/global-setup.ts"],
    env: { SYSTEMTAP_DIR },
  },
});
