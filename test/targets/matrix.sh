#!/usr/bin/env bash
# Builds SystemTap scripts with a target's own stap, inside its chroot (see
# .ci/targets), one at a time, and prints one line per script: ok, or the first
# error. For the findings in test/targets/FINDINGS.md; the test is builds.test.ts.
#
#   test/targets/matrix.sh SUITE [-R RUNTIME_IN_CHROOT] [-- STAP_OPTIONS…] FILE.stp…
#
# Each script is built with the options of its own header ("# Run, as root:").
set -uo pipefail
targets=${QTRIP_TARGETS:-/var/cache/qtrip/targets}
suite=$1; shift
extra=()
if [ "${1:-}" = -R ]; then extra+=(-R "$2"); shift 2; fi
if [ "${1:-}" = -- ]; then shift; while [ $# -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done; shift; fi
json="$targets/$suite/target.json"
root=$(node -p "require('$json').root")
kver=$(node -p "require('$json').kernelRelease")
for f in "$@"; do
  work=$(mktemp -d "$root/tmp/qtrip-matrix-XXXX")
  cp "$f" "$work/script.stp"
  # The header's command: "#   stap -g … NAME.stp", without -G/-x arguments.
  opts=$(sed -n 's/^#   stap \(.*\) [^ ]*\.stp.*/\1/p' "$f" | head -1 | sed -E 's/ -(G|x) [^ ]+//g')
  start=$SECONDS
  chroot "$root" /usr/bin/env -i -C "${work#$root}" PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
    SYSTEMTAP_DIR=/var/cache/qtrip-stap stap -p4 $opts "${extra[@]}" -r "$kver" -m qtrip_matrix script.stp \
    >"$work/out" 2>&1
  rc=$?
  if [ $rc = 0 ]; then
    echo "$(basename "$f"): ok ($((SECONDS - start))s)"
  else
    err=$(grep -m1 -E 'error|ERROR|undefined|no match|redefined' "$work/out" || head -1 "$work/out")
    echo "$(basename "$f"): FAIL ($((SECONDS - start))s): $err"
    cp "$work/out" "/tmp/matrix-$suite-$(basename "$f").log"
  fi
  rm -rf "$work"
done
