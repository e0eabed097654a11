// A rule file's name (and a libvirt domain name) reaches the generated scripts'
// headers and the launcher as data only (issue 23, item 2): whatever the name,
// the real `stap -p1` parses the same script as for "rule.qt", `sh -n` accepts
// the launcher, its commands are those of "rule.qt" with the name as one word,
// and the commands the headers show take the name as one shell word.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileSource, type CompileOptions } from "../../src/compile.js";
import { kernelRelease, stapRuntime } from "../support/stap.js";

const RUNS = Number(process.env.QTRIP_NAME_RUNS ?? 10);
const dir = mkdtempSync(join(tmpdir(), "qtrip-names-"));

// A kprobe rule: the launcher carries its symbol-table part too.
const SOURCE = 'case "CASE-1"\nwhen function "vfs_fsync" latency > 1s\nwhen syscall latency > 2s on comm "dd"\n';

/** Pieces of hostile names: line ends, quotes, command substitution, SystemTap's embedded C and preprocessor, a replaced non-UTF-8 byte, a lone surrogate. */
const PIECES = ["\n", "\r", '"', "'", "$(", ")", "`", "%{", "%}", "%(", "*/", "/*", "\\", " ", ";", "#", "-", "\u2028", "\ufffd", "\ud800", "é",
  "\nprobe begin { printf(\"pwned\") }\n", "\n%{ panic(\"x\"); %}\n", "$(touch /tmp/qtrip-pwned)", "`id`", "x"];
const hostileName = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 6 }).map((p) => p.join(""));

function compile(name: string, domain: string) {
  const options: CompileOptions = { fileName: `${name}.qt`, libvirtDomain: domain };
  const result = compileSource(SOURCE, options);
  expect(result.outputs, JSON.stringify(result.diagnostics)).toBeDefined();
  return result.outputs!;
}

/** The parse tree the real translator reads from a script (its own file line left out), string literals emptied: a rule's label names the file, as data. */
function parsed(script: string, options: string[]): string {
  const file = join(dir, "script.stp");
  writeFileSync(file, script);
  const r = spawnSync("stap", ["-p1", ...options, "-R", stapRuntime, "-r", kernelRelease, file], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.replace(/^# file .*\n/m, "").replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
}

function sh(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync("sh", args, { encoding: "utf8", ...(input !== undefined ? { input } : {}) });
}

/** The words a shell makes of a command line (its trailing `# …` comment dropped by the shell itself). */
function words(command: string): string[] {
  const r = sh(["-c", `set -- ${command}\nprintf '%s\\0' "$@"`]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\0").slice(0, -1);
}

/** The header's command lines under "Run, as root:". */
function runCommands(script: string): string[] {
  const lines = script.split("\n");
  const at = lines.indexOf("# Run, as root:");
  const out: string[] = [];
  for (let i = at + 1; lines[i]?.startsWith("#   "); i++) out.push(lines[i].slice(4));
  return out;
}

/** A name as it reaches a file, UTF-8 (a lone surrogate, as a non-UTF-8 byte reaches node's argv, is U+FFFD). */
const utf8 = (text: string) => Buffer.from(text, "utf8").toString("utf8");

const base = compile("rule", "guest1");
const baseGuest = parsed(base.guest, ["-g"]);
const baseHost = parsed(base.host, ["-g"]);

describe("file names are data", () => {
  test(`stap -p1 parses the same scripts, sh the same launcher, whatever the name (${RUNS} names)`, () => {
    fc.assert(
      fc.property(hostileName, hostileName, (name, domain) => {
        const out = compile(name, domain);
        // Nothing of the name is SystemTap code: the parse trees are those of rule.qt.
        expect(parsed(out.guest, ["-g"])).toBe(baseGuest);
        expect(parsed(out.host, ["-g"])).toBe(baseHost);
        // The launcher: valid shell, and its commands are rule.qt's with the name as one word.
        const launcher = join(dir, "launcher.sh");
        writeFileSync(launcher, out.launcher);
        expect(sh(["-n", launcher]).status).toBe(0);
        // The script's name is the one word after script="$here"/, up to the next command (it may span lines).
        const assignment = (text: string) => /^script="\$here"\/[^]*?(?=\n\[ -f "\$script" \])/m.exec(text)![0];
        const code = (text: string) => text.replace(assignment(text), "SCRIPT").split("\n").filter((l) => !l.startsWith("#"));
        expect(code(out.launcher)).toEqual(code(base.launcher));
        const assigned = sh(["-c", `here=/x\n${assignment(out.launcher)}\nprintf %s "$script"`]);
        expect(assigned.stdout).toBe(`/x/${utf8(out.guestName)}`);
        // The host's launcher (the SystemTap backend's rule.host.sh) the same way.
        const hostLauncher = out.hostCompanion!.text;
        writeFileSync(launcher, hostLauncher);
        expect(sh(["-n", launcher]).status).toBe(0);
        expect(code(hostLauncher)).toEqual(code(base.hostCompanion!.text));
        expect(sh(["-c", `here=/x\n${assignment(hostLauncher)}\nprintf %s "$script"`]).stdout).toBe(`/x/${utf8(out.hostName)}`);
        // The header lines are comments and nothing else.
        for (const [text, baseText] of [[out.guest, base.guest], [out.host, base.host], [out.launcher, base.launcher], [out.hostCompanion!.text, base.hostCompanion!.text]]) {
          const head = (t: string) => t.slice(0, t.search(/^[^#]/m));
          expect(head(text).split("\n").length).toBe(head(baseText).split("\n").length);
        }
        // The commands the headers show take the file name as one word (a control character shows as a space).
        // eslint-disable-next-line no-control-regex
        const shown = (n: string) => utf8(n).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
        expect(words(runCommands(out.host)[0])).toEqual(["sh", shown(out.hostCompanion!.name), "-x", "VMM_PID"]);
        expect(words(runCommands(out.host)[1]).at(-1)).toBe(shown(out.hostName));
        expect(words(runCommands(out.guest)[0]).at(-1)).toBe(shown(out.guestName));
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  test("a name cut to make code in the old headers stays one comment line and one word", () => {
    const planted = join(dir, "pwned");
    const out = compile('a\nprobe begin { printf("pwned") }\n#', `$(touch ${planted})`);
    expect(out.host).not.toMatch(/^probe begin \{ printf/m);
    expect(words(runCommands(out.host)[0])).toEqual(["sh", 'a probe begin { printf("pwned") } #.host.sh', "-x", "VMM_PID"]);
    expect(words(runCommands(out.host)[1])).toEqual([
      "stap", "-g", "--suppress-handler-errors", "-DSTP_NO_OVERLOAD", "-DMAXSKIPPED=1000000", "-x", "VMM_PID", 'a probe begin { printf("pwned") } #.host.stp',
    ]);
    // The libvirt command reads the domain's pid file, named by the domain as data: the shell runs nothing from it.
    words(runCommands(out.host)[2]);
    expect(existsSync(planted)).toBe(false);
  });
});
