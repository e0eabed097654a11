// SystemTap's build caches across test runs.
//
// The tests' SystemTap cache lives in the machine's cache (SYSTEMTAP_DIR, set in
// vitest.config.ts), so a later run reuses what an earlier one built; SystemTap keys
// each entry by the script, options, kernel tree, runtime path, compiler and stap
// itself. An empty tracequery_*.o entry is SystemTap's record of a header whose
// query failed, and it never retries one: most are real (headers that do not build
// alone), but a stap killed mid-query leaves one too, and every later build that
// needs that header then finds "no match" for its tracepoints. So a run marks the
// caches while it runs; a run that finds the mark of one that never finished (killed:
// a timeout, CI's limit) removes the empty entries written since that run began.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MARK = ".qtrip-test-run";

function caches(): string[] {
  const own = join(process.env.SYSTEMTAP_DIR ?? join(process.env.HOME ?? "/root", ".systemtap"), "cache");
  mkdirSync(own, { recursive: true });
  const list = [own];
  const targets = "/var/cache/qtrip/targets";
  if (existsSync(targets)) for (const suite of readdirSync(targets)) list.push(join(targets, suite, "root/var/cache/qtrip-stap/cache"));
  return list.filter((c) => existsSync(c));
}

/** Removes the empty tracequery entries written at or after `since` (ms); returns how many. */
function removeEmptyTracequeries(cache: string, since: number): number {
  let removed = 0;
  for (const bucket of readdirSync(cache)) {
    const dir = join(cache, bucket);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith("tracequery_")) continue;
      const file = join(dir, name);
      const st = statSync(file);
      if (st.size === 0 && st.mtimeMs >= since) {
        rmSync(file, { force: true });
        removed++;
      }
    }
  }
  return removed;
}

export default function setup(): () => void {
  const marked: string[] = [];
  for (const cache of caches()) {
    const mark = join(cache, MARK);
    if (existsSync(mark)) {
      const n = removeEmptyTracequeries(cache, statSync(mark).mtimeMs - 1000);
      console.log(`qtrip tests: an earlier run in ${cache} did not finish; removed ${n} empty tracequery entries it may have left`);
    }
    writeFileSync(mark, `${process.pid}\n`);
    marked.push(mark);
  }
  return () => {
    for (const mark of marked) rmSync(mark, { force: true });
  };
}
