// Where a rule's kernel function is, decided as its probes register, by the running kernel.
// At build time SystemTap knows only the kernel image's symbol table (System.map, or the
// launcher's copy of /proc/kallsyms without the modules' names): whether NAME is built in or
// a module (ext4 is a module on Debian, built in elsewhere; fuse is a module on Debian 12,
// built in on 13) is known only where the script runs. And a kprobe.module() probe that does
// not register is skipped without a word (runtime/linux/kprobes.c warns only for the image's).
import type { Fragment } from "../fragment.js";
import { oldKprobeRuntime } from "./kernel-facts.js";

/** The module the lowering names for "NAME wherever the running kernel has it": no module is called `*`. */
export const ANY_MODULE = "*";

/**
 * SystemTap's runtime (linux/kprobes.c, compiled after this block) hands a probe's "MODULE:NAME"
 * to register_kprobe() and register_kretprobe() once its own walk is removed (moduleSymbols, which
 * a script with this fragment uses too); both go
 * through qt_place_probe() first, which rewrites the name into one the kernel resolves:
 *   "*:NAME"       NAME alone: kallsyms_lookup_name() looks in the image, then in each loaded module;
 *   "MODULE:NAME"  kept while MODULE is loaded and has NAME (SystemTap registers it again when MODULE
 *                  loads later); else NAME alone when the image has it in its text: MODULE is built in.
 * What it found is said once per function (by its entry probe), with SystemTap's warnings (the
 * stap or staprun command's output) and in the kernel log: a rule that cannot trip is never silent.
 */
export const functionPlaces: Fragment = {
  name: "function places",
  requires: [oldKprobeRuntime],
  c: String.raw`#include <linux/errno.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/printk.h>
#include <linux/string.h>

#define qt_say_place(fmt, ...) do { \
	_stp_warn(fmt, __VA_ARGS__); \
	printk(KERN_WARNING fmt "\n", __VA_ARGS__); \
} while (0)

/* NAME is a function of the kernel image: the look-up tries the image before the modules. */
static int qt_in_image(const char *name)
{
	unsigned long addr = kallsyms_lookup_name(name);

	return addr && addr >= kallsyms_lookup_name("_stext") && addr < kallsyms_lookup_name("_etext");
}

/* What qt_place_probe() did with a probe's name. */
enum qt_place { QT_NOWHERE = -1, QT_NOT_OURS, QT_PLACED, QT_MODULE_LATER };

/* Rewrites kp's "*:NAME" or "MODULE:NAME" into the name the kernel resolves, or finds it nowhere. */
static enum qt_place qt_place_probe(struct kprobe *kp, int say)
{
	const char *symbol = kp->symbol_name;
	const char *name = symbol ? strchr(symbol, ':') : NULL;
	int module_len;

	if (!name)
		return QT_NOT_OURS;
	module_len = name++ - symbol;
	if (module_len == 1 && symbol[0] == '${ANY_MODULE}') {
		if (kallsyms_lookup_name(name)) {
			kp->symbol_name = name;
			return QT_PLACED;
		}
		if (say)
			qt_say_place("qtrip: function \"%s\" is in neither the kernel image nor a loaded module: its rules cannot trip (load its module, then this script)", name);
		return QT_NOWHERE;
	}
	if (kallsyms_lookup_name(symbol))
		return QT_PLACED;
	if (qt_in_image(name)) {
		kp->symbol_name = name;
		if (say)
			qt_say_place("qtrip: function \"%s\": no loaded module %.*s has it, the kernel image does (%.*s is built in): probed there", symbol, module_len, symbol, module_len, symbol);
		return QT_PLACED;
	}
	if (say)
		qt_say_place("qtrip: function \"%s\": no loaded module %.*s has it, nor the kernel image: its rules cannot trip until %.*s is loaded", symbol, module_len, symbol, module_len, symbol);
	return QT_MODULE_LATER; /* the kernel refuses it now; SystemTap tries again when MODULE loads */
}

/* The kernel refused a probe on a function it has (blacklisted, notrace, inside kprobes' own code). */
static int qt_refused(int rc, const char *symbol, int say)
{
	if (rc && say)
		qt_say_place("qtrip: function \"%s\": the kernel refused its probe (error %d): its rules cannot trip", symbol, rc);
	return rc;
}

static int qt_register_kprobe(struct kprobe *kp)
{
	enum qt_place place = qt_place_probe(kp, 1);

	if (place == QT_NOWHERE)
		return -ENOENT;
	return qt_refused(register_kprobe(kp), kp->symbol_name, place == QT_PLACED);
}

static int qt_register_kretprobe(struct kretprobe *rp)
{
	return qt_place_probe(&rp->kp, 0) == QT_NOWHERE ? -ENOENT : register_kretprobe(rp);
}

#define register_kprobe qt_register_kprobe
#define register_kretprobe qt_register_kretprobe`,
};
