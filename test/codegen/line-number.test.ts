// Numbers in kernel log lines (`message "took %u ns" > 1ms`): the C of
// fragments/line-number.ts, compiled by gcc for user space with strnstr() as the
// kernel has it, on lines a guest would rarely log: the largest and one past the
// largest 64-bit number, several places, qtrip's own line. And the rounding that
// turns `> D` / `>= D` into the least number in the line's unit. (The kernel build
// is stap -p4 in test/codegen/examples.test.ts; a real guest: test/e2e/guest/message.test.ts.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { lineNumber } from "../../src/codegen/stap/fragments/line-number.js";

/** lib/string.c's strnstr(), and what else the C takes from the kernel. */
const KERNEL = String.raw`#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef uint64_t u64;
#define U64_MAX UINT64_MAX
#define QT_RULES 1
static char *strnstr(const char *s1, const char *s2, size_t len)
{
	size_t l2 = strlen(s2);
	if (!l2)
		return (char *)s1;
	while (len >= l2) {
		len--;
		if (!memcmp(s1, s2, l2))
			return (char *)s1;
		s1++;
	}
	return NULL;
}`;

/** qt_set_least()'s embedded C as a C function of its arguments. */
function setLeast(): string {
  const body = /function qt_set_least\(rule:long, bound:long, unit:long, inclusive:long\) %\{([\s\S]*?)%\}/.exec(lineNumber.stap!)![1];
  const args = ["rule", "bound", "unit", "inclusive"].map((a) => `#define STAP_ARG_${a} ${a}`).join("\n");
  return `${args}\nstatic void qt_set_least(int64_t rule, int64_t bound, int64_t unit, int64_t inclusive)\n{${body}}`;
}

const MAIN = String.raw`
int main(int argc, char **argv)
{
	u64 n = 0;
	if (argc == 5) { /* set-least bound unit inclusive */
		qt_set_least(0, strtoll(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10));
		printf("%llu\n", (unsigned long long)qt_least[0]);
		return 0;
	}
	/* line before after: the line is copied without its NUL, as a console line is not terminated */
	size_t len = strlen(argv[1]);
	char *text = malloc(len + 1);
	memcpy(text, argv[1], len);
	text[len] = '7';
	if (qt_line_number(text, len, argv[2], argv[3], &n))
		printf("%llu\n", (unsigned long long)n);
	else
		printf("none\n");
	return 0;
}`;

const dir = mkdtempSync(join(tmpdir(), "qtrip-line-number-"));
writeFileSync(join(dir, "t.c"), `${KERNEL}\n${lineNumber.c!.replace(/^#include <linux\/.*\n/gm, "")}\n${setLeast()}\n${MAIN}`);
const cc = spawnSync("gcc", ["-std=gnu11", "-Wall", "-Werror", "-o", join(dir, "t"), join(dir, "t.c")], { encoding: "utf8" });

function run(...args: string[]): string {
  expect(cc.status, cc.stderr).toBe(0);
  return spawnSync(join(dir, "t"), args, { encoding: "utf8" }).stdout.trim();
}

test.each([
  ["hrtimer: interrupt took 3154230 ns", "interrupt took ", " ns", "3154230"],
  ["read-back delay of 400000ns", "delay of ", "ns", "400000"],
  ["at the end 42", "end ", "", "42"],
  ["leading zeros 000000000000000000000000042 ns", "zeros ", " ns", "42"],
  ["the largest 18446744073709551615 ns", "largest ", " ns", "18446744073709551615"],
  // The first place where before, digits and after all match.
  ["took 5 us, then took 77 ns", "took ", " ns", "77"],
  ["took 5 ns, then took 77 ns", "took ", " ns", "5"],
])("%s: %s", (line, before, after, expected) => {
  expect(run(line, before, after)).toBe(expected);
});

test.each([
  ["one past the largest 18446744073709551616 ns", "largest ", " ns"],
  ["twenty nines 99999999999999999999 ns", "nines ", " ns"],
  ["no digits took  ns", "took ", " ns"],
  ["a sign took -5 ns", "took ", " ns"],
  ["other text after took 12ns", "took ", " ns"],
  ["the line ends took 12", "took ", " ns"],
  ["qtrip: armed, took 12 ns", "took ", " ns"],
])("no number: %s", (line, before, after) => {
  expect(run(line, before, after)).toBe("none");
});

test.each([
  // bound, unit, '>=': the least n with n * unit > bound (or >=)
  ["1000000", "1", "0", "1000001"],
  ["1000000", "1", "1", "1000000"],
  ["0", "1", "1", "0"],
  ["500000", "1000", "0", "501"],
  ["500000", "1000", "1", "500"],
  ["500001", "1000", "1", "501"],
  ["500001", "1000", "0", "501"],
  ["9223372036854775807", "1", "0", "9223372036854775808"],
  ["-5", "1", "0", "0"],
])("qt_set_least(bound %s, unit %s, inclusive %s) = %s", (bound, unit, inclusive, least) => {
  expect(run("set-least", bound, unit, inclusive)).toBe(least);
});
