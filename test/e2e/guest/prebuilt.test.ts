// Prebuilt modules in a guest without a compiler: `qtrip build` (the CLI,
// dist/qtrip) builds the guest module here, for the test kernel; the guest's
// root file system has staprun and stapio only (what Debian's
// systemtap-runtime package ships), no compiler and no kernel headers; the
// guest runs the staprun command qtrip printed, as printed (VALUE replaced by
// the pid), and QEMU sees the trip. Then what a lockdown kernel does to such a
// module, signed or not.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { qtrip } from "../../support/cli.js";
import { expectOneTripAfterCall } from "./expect-trip.js";
import { kernelRelease, markerAt, PHASE, runGuest, trips } from "./harness.js";
import { loadWithPrintedCommand as loadPrinted, printedStaprunCommands } from "./printed-command.js";
import { describeInstalled } from "../../support/installed.js";

const RULE = `case "12"\nparam pid: int\nwhen syscall latency > 200ms on pid $pid as "slow call"\n`;

let module: string;
let command: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-prebuilt-"));
  writeFileSync(join(dir, "stall.qt"), RULE);
  const r = qtrip(["build", "stall.qt", "--kernel", kernelRelease], dir);
  if (r.status !== 0) throw new Error(`qtrip build failed:\n${r.stderr}`);
  module = join(dir, "stall_guest.ko");
  // The one command line of the guest's section, as qtrip printed it.
  const printed = printedStaprunCommands(r.stdout);
  expect(printed).toEqual(["staprun -L stall_guest.ko pid=VALUE"]);
  command = printed[0]!;
}, 600_000);

/** The init script's lines: the guest has no compiler and no headers; load the module with qtrip's command. */
function loadWithPrintedCommand(pid: string): string {
  return loadPrinted(command, pid);
}

describeInstalled("qemu", "test-kernel", "stap")("a module built by qtrip build, loaded with staprun alone", { timeout: 180_000 }, () => {
  test("trips about 200 ms into the watched pid's blocked call, seen from QEMU", async () => {
    const run = await runGuest({
      module,
      session: `spawn t nanosleep:5000
       ${loadWithPrintedCommand("$pid_t")}
       run t`,
    });
    expect(run.console).toContain("qtrip-e2e: no compiler, no headers");
    markerAt(run, PHASE.armed);
    markerAt(run, PHASE.done);
    expectOneTripAfterCall(run, 1);
    expect(run.console).toContain("qtrip: tripped: slow call: writing 0x1f to port 0x3ff");
  });
});

/** The console without staprun's colours (its ERROR: is red on a terminal, and QEMU's serial port is one). */
function plain(console: string): string {
  return console.replace(/\x1b\[[0-9;]*[mK]/g, "");
}

/** A fresh signing key and certificate, as a user makes a MOK (never enrolled in this guest). */
function signedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "qtrip-sign-"));
  const [key, cert] = [join(dir, "MOK.priv"), join(dir, "MOK.der")];
  execFileSync("openssl", ["req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=qtrip test MOK/", "-outform", "DER", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const signed = join(dir, "stall_guest.ko");
  copyFileSync(module, signed);
  execFileSync(`/usr/lib/linux-kbuild-${kernelRelease.replace(/^(\d+\.\d+).*/, "$1")}/scripts/sign-file`, ["sha256", key, cert, signed]);
  return signed;
}

describeInstalled("qemu", "test-kernel", "stap")("a lockdown guest (lockdown=integrity, as Secure Boot sets it)", { timeout: 180_000 }, () => {
  test("refuses the unsigned module: staprun fails, the kernel says why, no trip", async () => {
    const run = await runGuest({ module, kernelArgs: "lockdown=integrity", session: loadWithPrintedCommand("1") });
    expect(run.console).toContain("Lockdown: staprun: unsigned module loading is restricted; see man kernel_lockdown.7");
    expect(plain(run.console)).toContain("ERROR: Couldn't insert module 'stall_guest.ko': Operation not permitted");
    expect(run.console).toContain("qtrip-e2e: staprun failed with status 1");
    expect(trips(run)).toEqual([]);
  });

  test("refuses it signed with a key the guest kernel does not trust (a MOK not enrolled) the same way", async () => {
    const signed = signedCopy();
    // The signature is there: the module is signed, by our key.
    expect(execFileSync("/usr/sbin/modinfo", ["-F", "signer", signed], { encoding: "utf8" }).trim()).toBe("qtrip test MOK");
    expect(readFileSync(signed).subarray(-28).toString("latin1")).toBe("~Module signature appended~\n");
    const run = await runGuest({ module: signed, kernelArgs: "lockdown=integrity", session: loadWithPrintedCommand("1") });
    expect(run.console).toContain("Lockdown: staprun: unsigned module loading is restricted; see man kernel_lockdown.7");
    expect(plain(run.console)).toContain("ERROR: Couldn't insert module 'stall_guest.ko': Operation not permitted");
    expect(trips(run)).toEqual([]);
  });
});
