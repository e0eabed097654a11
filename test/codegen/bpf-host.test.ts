// The BPF backend's host script as text: valid sh for dash and busybox, outside
// text only in comments and one single-quoted word, the loader it carries intact.
// Nothing here runs the script (it would load a BPF program on this machine):
// test/e2e/host/bpf.test.ts runs it in the emulated hypervisor.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { compileSource } from "../../src/compile.js";
import { repoRoot } from "../support/stap.js";

const hostile = "it's $(reboot) `id` \\ ;";
const source = (id: string) => `case ${JSON.stringify(id)}\ntitle ${JSON.stringify(`title ${id}`)}\nwhen syscall latency > 10s\n`;

function script(caseId = "E2E-HOST", extra: Record<string, unknown> = {}): string {
  const result = compileSource(source(caseId), { fileName: "rule.qt", hostBackend: "bpf", hostAction: "panic", ...extra });
  if (!result.outputs) throw new Error(JSON.stringify(result.diagnostics));
  expect(result.outputs.hostName).toBe("rule.host.sh");
  return result.outputs.host;
}

describe("bpf host script", () => {
  test.each(["dash", "busybox"])("parses in %s (sh -n)", (shell) => {
    const args = shell === "busybox" ? ["sh", "-n"] : ["-n"];
    execFileSync(shell, args, { input: script(hostile) });
  });

  test("outside text is a comment or one single-quoted word", () => {
    const text = script(hostile);
    const label = text.split("\n").find((l) => l.startsWith("LABEL="))!;
    // The assignment alone, evaluated: the word is exactly the text.
    expect(execFileSync("sh", ["-c", `${label}\nprintf %s "$LABEL"`], { encoding: "utf8" })).toBe(`case ${hostile}`);
    const outside = text.split("\n").filter((l) => l.includes("reboot"));
    expect(outside.every((l) => l.startsWith("#") || l === label)).toBe(true);
  });

  test("carries the built loader, gzip'd, with its sha256 in the header and the check", () => {
    const text = script();
    const body = text.slice(text.indexOf("<<'QTRIP_LOADER'\n") + 17, text.indexOf("\nQTRIP_LOADER\n"));
    const loader = gunzipSync(Buffer.from(body.replace(/\n/g, ""), "base64"));
    const built = readFileSync(`${repoRoot}/dist/bpf/qtrip-bpf-crash`);
    expect(loader.equals(built)).toBe(true);
    const sha = createHash("sha256").update(built).digest("hex");
    expect(text).toContain(`#   sha256 ${sha}\n`);
    expect(text).toContain(`= ${sha} ] ||`);
    // A static x86-64 ELF: nothing to install on the hypervisor.
    expect(execFileSync("file", ["-b", "-"], { input: built, encoding: "utf8" })).toMatch(/ELF 64-bit LSB executable, x86-64.*statically linked/);
  });

  test("the same rule gives the same script", () => {
    expect(script()).toBe(script());
  });

  test("the VMM: -x PID by default; any guest takes no argument", () => {
    expect(script()).toContain('[ $# -eq 2 ] && [ "$1" = -x ] || usage\npid=$2\n');
    const any = script("E2E-HOST", { anyGuest: true });
    expect(any).toContain("[ $# -eq 0 ] || usage\n");
    expect(any).toContain("set -- --any\n");
  });

  test("the 5.10 refusal names both other backends, in one line", () => {
    const line = script()
      .split("\n")
      .find((l) => l.includes("cannot run the bpf backend"))!;
    expect(line).toContain("--host-backend ftrace");
    expect(line).toContain("--host-backend stap");
  });
});
