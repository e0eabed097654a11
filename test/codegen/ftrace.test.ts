// The ftrace host backend's script, without a host: a golden, the shells' own
// syntax check (dash is Debian's /bin/sh, busybox sh the emulated host's),
// outside text kept as data, and the registry's usage errors. The script running
// in an emulated hypervisor is test/e2e/host/ftrace.test.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkSource, compileSource, hostChoice } from "../../src/compile.js";
import { FTRACE_ACTIONS } from "../../src/codegen/ftrace/actions.js";
import { shellWord } from "../../src/codegen/shell.js";
import { explain } from "../../src/explain/explain.js";
import { repoRoot } from "../support/stap.js";
import { qtrip } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "qtrip-ftrace-"));
const example = "io-stall.qt";

function compile(source: string, options: Parameters<typeof compileSource>[1]) {
  const result = compileSource(source, options);
  if (!result.outputs) throw new Error(JSON.stringify(result.diagnostics));
  return result.outputs;
}

describe("ftrace host script", () => {
  test.each(FTRACE_ACTIONS)("action %s: golden, rule.host.sh", async (action) => {
    const source = readFileSync(join(repoRoot, "examples", example), "utf8");
    const outputs = compile(source, { fileName: example, hostBackend: "ftrace", hostAction: action });
    expect(outputs.hostName).toBe("io-stall.host.sh");
    await expect(outputs.host).toMatchFileSnapshot(`golden/ftrace/io-stall.${action}.host.sh`);
  });

  const shells = [
    ["dash", ["-n"]],
    ["busybox", ["sh", "-n"]],
  ] as const;
  test.each(FTRACE_ACTIONS.flatMap((a) => shells.map(([shell, args]) => [a, shell, args] as const)))("action %s: %s accepts its syntax", (action, shell, args) => {
    const { host } = compile("when syscall latency > 1s\n", { fileName: "r.qt", hostBackend: "ftrace", hostAction: action, libvirtDomain: "db-7" });
    const path = join(dir, `${action}.sh`);
    writeFileSync(path, host);
    const r = spawnSync(shell, [...args, path], { encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("outside text stays data: a case, title and file name with quotes, newlines and $( ) reach the script as words and comments", () => {
    const hostile = "x'; rm -rf / # $(reboot) `id` \"q\" é";
    const source = `case ${JSON.stringify(hostile)}\ntitle ${JSON.stringify(hostile)}\nwhen syscall latency > 1s\n`;
    const { host } = compile(source, { fileName: "we'ird\nname$(x).qt", hostBackend: "ftrace", hostAction: "freeze" });
    // Every comment line is one line: no newline escaped the header.
    const headerEnd = host.indexOf("\n\n");
    expect(host.slice(0, headerEnd).split("\n").every((l) => l.startsWith("#"))).toBe(true);
    // The values are single-quoted words; dash reads them back exactly.
    const settings = host.split("\n").filter((l) => /^QT_(CASE_TEXT|CASE_JSON|TITLE_JSON|CASE_NAME)=/.test(l));
    const printed = spawnSync("dash", ["-c", `${settings.join("\n")}\nprintf '%s\\n' "$QT_CASE_TEXT" "$QT_CASE_JSON" "$QT_TITLE_JSON" "$QT_CASE_NAME"`], { encoding: "utf8" });
    const [text, caseJson, titleJson, name] = printed.stdout.split("\n");
    expect(text).toBe(hostile);
    // JSON for meta.json, ASCII only (é as \u00e9), that reads back as the text.
    expect(caseJson).toMatch(/^[\x20-\x7e]+$/);
    expect([JSON.parse(caseJson!), JSON.parse(titleJson!)]).toEqual([hostile, hostile]);
    expect(name).toBe("x___rm_-rf_______reboot___id___q___");
  });

  test("the thread filter: one test per thread, runs of consecutive thread ids as ranges", () => {
    const { host } = compile("when syscall latency > 1s\n", { fileName: "r.qt", hostBackend: "ftrace" });
    const fn = /^qt_pid_filter\(\) \{\n[\s\S]*?\n\}\n/m.exec(host)![0];
    const filter = (tids: string) => spawnSync("dash", ["-c", `${fn}qt_pid_filter "$1"`, "sh", tids], { encoding: "utf8" }).stdout;
    expect(filter("1234")).toBe("common_pid == 1234");
    expect(filter("1239 1234 1235 1236 1240 1300")).toBe("(common_pid >= 1234 && common_pid <= 1236) || (common_pid >= 1239 && common_pid <= 1240) || common_pid == 1300");
    expect(filter(Array.from({ length: 512 }, (_, i) => 100000 + i).join(" "))).toBe("(common_pid >= 100000 && common_pid <= 100511)");
  });

  test("the script's own usage errors exit 2 before anything else (options are read first)", () => {
    const { host } = compile("when syscall latency > 1s\n", { fileName: "r.qt", hostBackend: "ftrace" });
    const path = join(dir, "usage.sh");
    writeFileSync(path, host);
    const run = (...args: string[]) => spawnSync("dash", [path, ...args], { encoding: "utf8" });
    expect(run("--help")).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: sh r\.host\.sh -x VMM_PID \| --libvirt-domain DOMAIN/) });
    expect(run("--bogus")).toMatchObject({ status: 2, stderr: expect.stringMatching(/^qtrip: unknown option '--bogus'\nusage: /) });
    expect(run("--captures", "two")).toMatchObject({ status: 2, stderr: expect.stringMatching(/^qtrip: --captures takes a number, not 'two'\n/) });
    expect(run("-x")).toMatchObject({ status: 2, stderr: expect.stringMatching(/^qtrip: -x takes a value\n/) });
  });

  test("shellWord round-trips any text through the shell", () => {
    for (const text of ["", "plain", "it's", "'", "''", "a\nb", "$HOME `x` \\ \"", "é ünï"]) {
      expect(spawnSync("dash", ["-c", `printf '%s' ${shellWord(text)}`], { encoding: "utf8" }).stdout).toBe(text);
    }
  });

  test("the run line and the default domain follow --libvirt-domain; the threshold is the largest", () => {
    const { host } = compile("when syscall latency > 1s\nwhen syscall latency > 2500ms\n", { fileName: "r.qt", hostBackend: "ftrace", libvirtDomain: "db-7" });
    expect(host).toContain("#   sh r.host.sh   # libvirt domain db-7 (compiled in); -x VMM_PID chooses another guest");
    expect(host).toContain("QT_DOMAIN=db-7");
    expect(host).toContain("QT_THRESHOLD_NS=2500000000");
    expect(host).toContain("QT_ACTION=freeze");
  });

  test("explain says what the ftrace backend does, in plain words", () => {
    const { checked } = checkSource("when syscall latency > 1s\n", { fileName: "r.qt" });
    const text = explain(checked!, { fileName: "r.qt", dryRun: false, hostBackend: "ftrace", hostAction: "freeze" });
    expect(text).toContain("The host script (ftrace: a shell script over tracefs, in its own instance; no compiler, no module) sees that write at KVM's kvm_pio event");
    expect(text).toContain("stops its flight recorder there");
    expect(text).toContain("nothing is left in tracefs");
  });
});

describe("the host backend registry: usage errors name what works", () => {
  test.each([
    [
      { hostBackend: "ftrace", hostAction: "int13" },
      // (stap, and bpf once that backend is registered)
      /^--host-backend ftrace --host-action int13: the ftrace backend cannot crash the host; its actions are freeze, stacks, log \(for a crash: --host-backend stap( or bpf)?\)$/,
    ],
    [{ hostBackend: "stap", hostAction: "freeze" }, "--host-backend stap --host-action freeze: the stap backend has no action freeze; its actions are int13, panic, log (freeze: --host-backend ftrace)"],
    [
      { hostBackend: "ftrace", hostProbe: "qemu" },
      "--host-backend ftrace --host-probe qemu: the ftrace backend has no probe point qemu; its probe points are kvm_pio (qemu: --host-backend stap)",
    ],
    [{ hostBackend: "ftrace", anyGuest: true }, "--host-backend ftrace --any-guest: the ftrace backend watches one guest's VMM (-x PID or --libvirt-domain when the script runs); --any-guest is the stap backend's"],
  ] as const)("%o", (options, problem) => {
    const chosen = hostChoice(options);
    expect("problem" in chosen && chosen.problem).toMatch(problem);
  });

  test("the CLI: exit 2, the message, nothing written; the defaults per backend", () => {
    writeFileSync(join(dir, "rule.qt"), "when syscall latency > 1s\n");
    const r = qtrip(["compile", "--host-backend", "ftrace", "--host-action", "int13", "rule.qt"], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^qtrip: --host-backend ftrace --host-action int13: the ftrace backend cannot crash the host; its actions are freeze, stacks, log \(for a crash: --host-backend stap/);
    expect(qtrip(["compile", "--host-backend", "nope", "rule.qt"], dir).status).toBe(2);
    const ok = qtrip(["compile", "--host-backend", "ftrace", "rule.qt"], dir);
    expect(ok.stdout).toContain("rule.host.sh");
    expect(readFileSync(join(dir, "rule.host.sh"), "utf8")).toContain("QT_ACTION=freeze");
    expect(qtrip(["explain", "--host-backend", "ftrace", "--host-action", "stacks", "rule.qt"], dir).stdout).toContain("every host CPU's stack with sysrq l");
  });
});
