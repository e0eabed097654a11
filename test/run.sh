#!/bin/sh
# npm test: every test file. The full chain (test/e2e/chain) runs after the others, alone: its
# guest runs under KVM inside the emulated hypervisor (nested, all under TCG), and beside another
# worker's QEMU or SystemTap builds one of its boots took more than 10 min where alone it takes 1-3.
set -u
config=test/vitest.config.ts
# With arguments (npm test -- FILE…), just those.
[ $# -eq 0 ] || exec npx vitest run --config "$config" "$@"
npx vitest run --config "$config" --exclude 'test/e2e/chain/**'
status=$?
npx vitest run --config "$config" test/e2e/chain || status=1
exit $status
