// Rules that are valid but would trip on a task that is merely idle: a trip
// crashes the hypervisor, so the checker says so (a warning: it still compiles).
import { warning, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../syntax/ast.js";
import type { CheckedFilter } from "./checked.js";
import type { ConditionSpec } from "../../stdlib/index.js";
import type { CheckContext } from "./context.js";

const HELP = "name the calls that should never wait long (file I/O such as pread64, pwrite64, fsync; memory management such as mmap, munmap), or filter on one thread with 'tid'";

export function checkCautions(ctx: CheckContext, entry: ConditionSpec, words: ast.Word[] | undefined, head: Span, filters: ast.Filter[]): void {
  const caution = entry.blocksByDesign;
  if (!caution || filters.some((f) => f.attribute.name === "tid")) return;
  if (!words?.length) {
    if (!caution.whenOmitted) return;
    ctx.report(
      warning("W0005", head, `this rule watches every call, including those an idle thread waits in as long as it likes (${caution.names.slice(0, 4).join(", ")}…)`, {
        notes: [
          "such a thread trips the rule as soon as it has waited the threshold, and a trip crashes the host",
          "if that is what you want, say so: end the rule with 'allow W0005'",
        ],
        suggestion: HELP,
      }),
    );
    return;
  }
  // A name listed twice is W0003's business: warn about its first place only.
  for (const word of words.filter((w, i) => words.findIndex((o) => o.name === w.name) === i)) {
    const onStreams = caution.onStreams.includes(word.name);
    if (!onStreams && !caution.names.includes(word.name)) continue;
    const message = onStreams
      ? `'${word.name}' blocks by design on a socket, a pipe or a terminal: it waits there for the other end as long as that likes, and trips this rule`
      : `'${word.name}' blocks by design: an idle thread waits in it as long as it likes, and trips this rule`;
    ctx.report(
      warning("W0004", word.span, message, {
        notes: [
          ...(onStreams ? ["a reader that stops reading, or a writer that stops writing, keeps it waiting for ever"] : []),
          "a trip crashes the host",
          "if that is what you want, say so: end the rule with 'allow W0004'",
        ],
        suggestion: HELP,
      }),
    );
  }
}

/**
 * Device-mapper (LVM, dm-crypt; not request-based dm-multipath), md RAID, zram, pmem, drbd and
 * bcache devices are bio-based: they hand bios to the disks below them and issue no block
 * requests of their own, so `io latency … on device "dm-0"` would never trip.
 */
const BIO_BASED = /^(dm-|md|zram|pmem|drbd|bcache)\d/;

export function checkDeviceCaution(ctx: CheckContext, filter: ast.Filter, value: CheckedFilter["value"]): void {
  if (value.kind !== "const" || typeof value.value !== "string" || !BIO_BASED.test(value.value)) return;
  ctx.report(
    warning("W0006", filter.value.span, `'${value.value}' is a bio-based device (device-mapper, md RAID, zram…): it issues no block requests of its own, so this rule would never trip`, {
      notes: [
        "io latency times requests on the disk that serves them: the one under the LVM volume, dm-crypt mapping or RAID array",
        "only request-based device-mapper (dm-multipath) has requests of its own",
      ],
      suggestion: `name the disk below it: 'lsblk -s /dev/${value.value}' lists it (e.g. sda, vda, nvme0n1)`,
    }),
  );
}
