// The server's answers over the protocol: initialize, completion of each kind,
// hover, go to definition, formatting and document symbols.
import { describe, expect, test } from "vitest";
import {
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  type CompletionItem,
  type DocumentSymbol,
  type MarkupContent,
  type Position,
  type TextEdit,
} from "vscode-languageserver-protocol/node";
import { formatSource } from "../../src/format/format.js";
import { serverForThisFile } from "../support/lsp-client.js";

const lsp = serverForThisFile();
let opened = 0;

/** Opens `text` with `|` marking the cursor; returns the document's URI and the cursor's position. */
async function openAt(marked: string): Promise<{ uri: string; position: Position }> {
  const at = marked.indexOf("|");
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const before = text.slice(0, at).split("\n");
  const uri = `file:///cases/doc-${++opened}.qt`;
  await lsp.open(uri, text);
  return { uri, position: { line: before.length - 1, character: before.at(-1)!.length } };
}

async function complete(marked: string): Promise<CompletionItem[]> {
  const { uri, position } = await openAt(marked);
  const result = await lsp.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
  return Array.isArray(result) ? result : (result?.items ?? []);
}

const labels = async (marked: string) => (await complete(marked)).map((i) => i.label).sort();

test("initialize names the server and what it offers", () => {
  expect(lsp.initialized.serverInfo).toEqual({ name: "qtrip", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  expect(lsp.initialized.capabilities).toMatchObject({
    textDocumentSync: 2,
    completionProvider: { triggerCharacters: ["$", " ", ","] },
    hoverProvider: true,
    definitionProvider: true,
    documentFormattingProvider: true,
    documentSymbolProvider: true,
    codeActionProvider: { codeActionKinds: ["quickfix"] },
  });
});

describe("completion", () => {
  test("condition head words after `when`", async () => {
    expect(await labels("when |")).toEqual(["event", "function", "io", "message", "reclaim", "sched", "net", "signal", "steal", "syscall", "task", "tick", "timer", "vcpu"].sort());
    const items = await complete("when sy|");
    const syscall = items.find((i) => i.label === "syscall")!;
    expect(syscall.detail).toBe("syscall [NAME {, NAME}] latency > D | syscall [NAME {, NAME}] error [ERRNO {, ERRNO}]");
    // The word being typed is what the completion replaces.
    expect(syscall.textEdit).toEqual({ range: { start: { line: 0, character: 5 }, end: { line: 0, character: 7 } }, newText: "syscall" });
  });

  test("system call names and the pattern's words after `syscall`", async () => {
    const items = await complete("when syscall |");
    const names = items.map((i) => i.label);
    expect(names).toContain("latency");
    expect(names).toContain("error");
    expect(items.find((i) => i.label === "futex")).toMatchObject({ detail: "system call 202 (x86_64)" });
    expect(names.length).toBeGreaterThan(300);
    // After a comma only another name fits; after a name, the pattern's next word.
    expect(await labels("when syscall futex, |")).not.toContain("latency");
    expect(await labels("when syscall futex, epoll_wait |")).toEqual(["error", "latency"]);
  });

  test("errno names after `error`, signals after `signal`, events after `event`", async () => {
    const errnos = await complete("when syscall openat error |");
    expect(errnos.find((i) => i.label === "ENOENT")).toMatchObject({ detail: "errno 2: no such file or directory" });
    expect(errnos.map((i) => i.label)).not.toContain("futex");
    expect(await labels("when syscall openat error ENOENT, EA|")).toContain("EACCES");
    const signals = await complete("when signal SIG|");
    expect(signals.find((i) => i.label === "SIGKILL")).toMatchObject({ detail: "signal 9" });
    expect(await labels("when event |")).toEqual(["hung_task", "nmi_backtrace", "oom_kill", "oops", "panic", "rcu_stall", "softlockup", "tcp_reset", "tcp_retransmit", "tx_timeout", "vm_resumed", "warn"]);
  });

  test("filter attributes valid for the condition at hand", async () => {
    expect(await labels("when io latency > 5s on |")).toEqual(["comm", "cpu", "device", "pid", "tid", "uid"]);
    expect(await labels("when syscall latency > 5s on pid 1 and |")).toEqual(["comm", "cpu", "pid", "tid", "uid"]);
    expect(await labels("when tick gap > 100ms on |")).toEqual(["cpu"]);
    expect(await labels('when message "x" on |')).toEqual(["comm", "context", "cpu", "pid", "tid", "uid"]);
  });

  test("the values of `context`, the one filter with a fixed set of them", async () => {
    const items = await complete('when message "x" on comm "a" and context |');
    expect(items.map((i) => i.label)).toEqual(['"kernel"', '"user"']);
    expect(items[0].detail).toContain("kernel thread or an interrupt");
    expect(await labels("when syscall latency > 1s on pid |")).toEqual([]);
  });

  test("$param names declared in the file", async () => {
    const items = await complete("param pid: int\nparam lag: duration = 20ms\nwhen tick gap > $|");
    expect(items.map((i) => [i.label, i.detail])).toEqual([
      ["$pid", "param pid: int"],
      ["$lag", "param lag: duration = 20ms"],
    ]);
    expect(items[0].textEdit).toEqual({ range: { start: { line: 2, character: 16 }, end: { line: 2, character: 17 } }, newText: "$pid" });
    expect(await labels("param pid: int\nwhen syscall latency > 1s on pid $p|")).toEqual(["$pid"]);
  });

  test("units after a number that is a duration", async () => {
    const units = ["200h", "200m", "200ms", "200ns", "200s", "200us"];
    expect(await labels("when syscall latency > 200|")).toEqual(units);
    expect(await labels("when syscall latency >= 1s 3 times within 200|")).toEqual(units);
    expect(await labels("when tick gap > 1s after 200|")).toEqual(units);
    expect(await labels("param lag: duration = 200|")).toEqual(units);
    // A pid is a number, not a duration.
    expect(await labels("when syscall latency > 1s on pid 200|")).toEqual([]);
    // A number in a log line is a duration only when a unit follows its %u.
    expect(await labels('when message "took %u ns" > 200|')).toEqual(units);
    expect(await labels('when message "queue depth %u" > 200|')).toEqual([]);
  });

  test("a share of time: the percentage, `within`, then the window's units", async () => {
    expect(await labels("when steal > 20|")).toEqual(["20%"]);
    expect(await labels("when steal >= 5|")).toEqual(["5%"]);
    expect(await labels("when steal > 20% |")).toEqual(["within"]);
    expect(await labels("when steal > 20% within 200|")).toEqual(["200h", "200m", "200ms", "200ns", "200s", "200us"]);
    expect(await labels("when steal > 20% within 1s |")).toEqual(["allow", "then"]);
  });

  test("`allow` where a rule may end, then the warning codes it may name", async () => {
    const allow = (await complete("when syscall futex latency > 2s al|")).find((i) => i.label === "allow");
    expect(allow?.textEdit).toEqual({ range: { start: { line: 0, character: 32 }, end: { line: 0, character: 34 } }, newText: "allow" });
    for (const end of ['when syscall futex latency > 2s on pid 1 |', "when tick gap > 1s on cpu $c |"]) {
      expect(await labels(end), end).toEqual(["allow", "counting pauses", "then"]);
    }
    // After a modifier, no `then`: a sequence's second condition comes before the rule's modifiers.
    expect(await labels("when event oops 3 times within 1m |")).toEqual(["allow"]);
    expect(await labels('when syscall futex latency > 2s as "l" |')).toEqual(["allow", "counting pauses"]);
    // Not where a value or a keyword must still come.
    expect(await labels("when syscall futex latency > |")).not.toContain("allow");
    expect(await labels("when event oops 3 |")).not.toContain("allow");
    const codes = await complete("when syscall futex latency > 2s allow |");
    expect(codes.find((i) => i.label === "W0004")).toMatchObject({ detail: "system call that blocks by design" });
    // The allowance's own warnings cannot be allowed; a code listed already is not offered again.
    expect(codes.map((i) => i.label)).toEqual(["W0001", "W0003", "W0004", "W0005", "W0006", "W0009"]);
    expect(await labels("when syscall futex latency > 2s allow W0004, |")).toEqual(["W0001", "W0003", "W0005", "W0006", "W0009"]);
    expect(await labels("when syscall futex latency > 2s allow W0004 |")).toEqual([]);
  });

  test("`counting pauses` where a modifier may come on a condition whose durations take it, once; `pauses` after `counting`", async () => {
    const offered = (await complete("when syscall pread64 latency > 2s cou|")).find((i) => i.label === "counting pauses");
    expect(offered?.textEdit).toEqual({ range: { start: { line: 0, character: 34 }, end: { line: 0, character: 37 } }, newText: "counting pauses" });
    expect(offered?.detail).toContain("pauses of the whole guest count");
    expect(await labels("when syscall pread64 latency > 2s counting |")).toEqual(["pauses"]);
    expect(await labels("when task blocked > 10s after 1m |")).toEqual(["allow", "counting pauses"]);
    // Given once: then only what may still come.
    expect(await labels("when syscall pread64 latency > 2s counting pauses |")).toEqual(["allow"]);
    expect(await labels('when tick gap > 1s counting pauses as "x" |')).toEqual(["allow"]);
    // Not on a condition a pause cannot lengthen (E0163).
    for (const end of ["when vcpu stall > 1s |", "when timer late > 1ms |", 'when message "x" on pid 1 |', "when steal > 5% within 1s |"]) {
      expect(await labels(end), end).toEqual(["allow", "then"]);
    }
    // In a sequence, B's condition decides, and it comes after the window.
    expect(await labels("when vcpu stall > 1s then io latency > 1s within 5s |")).toEqual(["allow", "counting pauses"]);
    expect(await labels("when syscall pread64 latency > 1s then event warn within 5s |")).toEqual(["allow"]);
  });

  test("after `then`, a second condition as a rule's: its words, its filters, then its window", async () => {
    expect(await labels("when signal SIGSTOP then |")).toEqual(await labels("when |"));
    expect(await labels("when signal SIGSTOP then syscall read |")).toContain("latency");
    expect(await labels("when signal SIGSTOP then io latency > 1s on |")).toContain("device");
    expect(await labels("when signal SIGSTOP then tick gap > 1s on |")).toEqual(["cpu"]);
    expect(await labels("when signal SIGSTOP then event oops |")).toEqual([]);
    expect(await labels("when signal SIGSTOP then syscall read latency > 1s |")).toEqual(["within"]);
    expect(await labels("when signal SIGSTOP then event warn on pid 1 |")).toEqual(["within"]);
    expect(await labels("when signal SIGSTOP then event warn within 5|")).toContain("5s");
    expect(await labels("when signal SIGSTOP then event warn within 5s |")).toEqual(["allow"]);
  });

  test("statement keywords at the start of a line; nothing in comments and strings", async () => {
    expect(await labels("|")).toEqual(["case", "channel", "param", "title", "when"]);
    expect(await labels("when event oops\nw|")).toEqual(["case", "channel", "param", "title", "when"]);
    expect(await labels("# when |")).toEqual([]);
    expect(await labels('when message "when |')).toEqual([]);
  });
});

async function hoverText(marked: string): Promise<string | undefined> {
  const { uri, position } = await openAt(marked);
  const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  return hover ? (hover.contents as MarkupContent).value : undefined;
}

describe("hover", () => {
  test("a rule: what `qtrip explain` says of it", async () => {
    const text = await hoverText('param pid: int\nwhen sys|call futex latency > 2s on pid $pid as "futex stall"\n');
    expect(text).toContain("futex stall:");
    expect(text).toContain("Watches system calls futex, only for process $pid");
    expect(text).toContain("Probes: kernel.trace(\"raw_syscalls:sys_enter\") (start)");
    expect(text).toContain("Trips when one has lasted longer than 2 s");
  });

  test("a rule that counts pauses: explain's words for it, on the modifier too", async () => {
    const text = await hoverText("when syscall pread64 latency > 2s counting pau|ses\n");
    expect(text).toContain("Trips when one has lasted longer than 2 s");
    expect(text).toContain("the hypervisor's pauses of the whole guest count in its durations");
  });

  test("a steal rule: its share and window, as `qtrip explain` says them", async () => {
    const text = await hoverText("when ste|al >= 25% within 2s on cpu 1\n");
    expect(text).toContain("Watches each busy CPU's steal time");
    expect(text).toContain("when the steal time accounted to it is at least 25% of the last 2 s");
  });

  test("a rule in a file with errors: the condition's syntax and meaning", async () => {
    const text = await hoverText("when tick ga|p > 1s\nwhen bogus\n");
    expect(text).toContain("`tick gap > D`: a busy guest CPU saw no timer tick for longer than D");
    expect(text).toContain("fix the file's errors");
  });

  test("names: system call number, errno number and meaning, signal number", async () => {
    expect(await hoverText("when syscall fu|tex latency > 2s\n")).toBe("**futex**: system call 202 (x86_64)");
    expect(await hoverText("when syscall openat error EACCES, ENO|ENT\n")).toBe("**ENOENT**: errno 2: no such file or directory");
    expect(await hoverText("when signal SIGK|ILL\n")).toBe("**SIGKILL**: signal 9");
    expect(await hoverText("when event hung_|task\n")).toContain("**hung_task**: guest kernel event");
  });

  test("a code in an allowance: the warning it names", async () => {
    expect(await hoverText("when syscall futex latency > 2s allow W00|04\n")).toBe(
      "**W0004**: system call that blocks by design\n\nAllowed on this rule: `qtrip check` does not warn about it here.",
    );
    expect(await hoverText("when syscall futex latency > 2s allow W0004, E01|40\n")).toBe("**E0140**: not a warning code of qtrip (only warnings can be allowed)");
    // Elsewhere in the rule, explain's account says it.
    expect(await hoverText("when sys|call futex latency > 2s on pid 1 allow W0004\n")).toContain("Allows W0004 (system call that blocks by design)");
  });

  test("a sequence: both conditions in explain's words, a name in either condition", async () => {
    const text = await hoverText('when sig|nal SIGSTOP on comm "qemu" then syscall read latency > 100ms on pid 7 within 5s as "stopped, then slow" allow W0004\n');
    expect(text).toContain("stopped, then slow:");
    expect(text).toContain("A sequence: the second condition counts only within 5 s after the first");
    expect(text).toContain('First, watches SIGSTOP signals sent to tasks, only for task named "qemu"');
    expect(text).toContain("Then, watches system calls read, only for process 7");
    expect(text).toContain("if that moment falls within 5 s after the latest time the first condition held");
    expect(await hoverText("when signal SIGSTOP then syscall re|ad latency > 1s within 5s\n")).toBe("**read**: system call 0 (x86_64)");
    expect(await hoverText("when signal SIGST|OP then event warn within 5s\n")).toBe("**SIGSTOP**: signal 19");
    // With errors in the file: the syntax of the condition under the cursor.
    expect(await hoverText("when signal SIGSTOP then tick ga|p > 1s\n")).toContain("`tick gap > D`");
  });

  test("the text of a message that compares a number: how its pattern reads a line, or what is wrong with it", async () => {
    expect(await hoverText('when message "read-back delay of %u|ns" > 500us\n')).toBe(
      '**pattern**: a line with "read-back delay of ", then decimal digits, then "ns", at the first place it has them all.\n\n' +
        "The number: the digits, unsigned, at most 64 bits, in ns (compared with a duration as that many ns; with a plain number, as written). A line without them, or with more digits than 64 bits hold, does not match.",
    );
    expect(await hoverText('when message "depth %u|" > 5\n')).toContain("(no unit: compared with a plain number)");
    expect(await hoverText('when message "took %ll|u ns" > 5\n')).toBe("**pattern**: unknown directive '%llu'");
    // Without a comparison the text is literal: explain's account, as for any rule.
    expect(await hoverText('when message "took %u| ns"\n')).toContain("Watches kernel log lines containing");
  });

  test("a $param: its declaration", async () => {
    expect(await hoverText("param lag: duration = 20ms\nwhen tick gap > $l|ag\n")).toBe("```qtrip\nparam lag: duration = 20ms\n```");
  });
});

test("go to definition: from $param to its declaration", async () => {
  const { uri, position } = await openAt("case \"1\"\nparam pid: int\nwhen syscall latency > 1s on pid $p|id\n");
  expect(await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position })).toEqual({
    uri,
    range: { start: { line: 1, character: 6 }, end: { line: 1, character: 9 } },
  });
  // In a sequence's second condition and its window too.
  const second = await openAt("param pid: int\nparam w: duration\nwhen event warn then syscall latency > 1s on pid $pid within $|w\n");
  expect(await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: second.uri }, position: second.position })).toEqual({
    uri: second.uri,
    range: { start: { line: 1, character: 6 }, end: { line: 1, character: 7 } },
  });
  const elsewhere = await openAt("param pid: int\nwhen syscall lat|ency > 1s on pid $pid\n");
  expect(await lsp.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: elsewhere.uri }, position: elsewhere.position })).toBeNull();
});

describe("formatting", () => {
  test("one edit to the prettier plugin's layout", async () => {
    const text = "case   \"1\"   # the case\nwhen syscall   futex,epoll_wait latency>2s # stall\n   on pid 1\n";
    const { uri } = await openAt(`${text}|`);
    const edits = (await lsp.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })) as TextEdit[];
    expect(edits).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } }, newText: await formatSource(text) }]);
    // A comment inside a statement that spans lines moves above it.
    expect(edits[0].newText).toBe('case "1" # the case\n# stall\nwhen syscall futex, epoll_wait latency > 2s on pid 1\n');
  });

  test("no edit for a formatted file or one that does not parse", async () => {
    for (const text of ["when event oops\n", "when syscall latency >\n"]) {
      const { uri } = await openAt(`${text}|`);
      expect(await lsp.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    }
  });
});

test("document symbols: one per rule, named by its label", async () => {
  const { uri } = await openAt('case "1"\nparam pid: int\nwhen syscall futex latency > 2s\n  on pid $pid as "futex stall"\nwhen tick gap > 100ms\nwhen bogus thing|\n');
  const symbols = (await lsp.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
  expect(symbols.map((s) => [s.name, s.detail, s.range.start.line, s.range.end.line])).toEqual([
    ["futex stall", "syscall futex latency > 2s", 2, 3],
    [`doc-${opened}.qt:5`, "tick gap > 100ms", 4, 4],
    [`doc-${opened}.qt:6`, "bogus thing", 5, 5],
  ]);
});
