#!/bin/sh
# The qtrip command (dist/qtrip). It starts node from the start-up snapshot that `npm run build`
# made (dist/qtrip.blob) when the node on PATH is the very binary that made it;
# otherwise, and for `fmt`, `lsp` and `build` (which load prettier, the LSP
# library and the builder through import()), it runs the plain bundle.
here=$(dirname "$(readlink -f "$0")")
# The start-up snapshot has no module path: this is how it finds dist/bpf/.
export QTRIP_DIST="$here"
node=$(readlink -f "$(command -v node)") || { echo "qtrip: node is not on PATH" >&2; exit 2; }
if [ "$1" != "fmt" ] && [ "$1" != "lsp" ] && [ "$1" != "build" ] && [ -f "$here/qtrip.blob" ] \
  && [ "$(stat -L -c '%n %s %Y' "$node" 2>/dev/null)" = "$(cat "$here/qtrip.blob.node" 2>/dev/null)" ]; then
  # "--": node must not read qtrip's options (--version, --help) as its own.
  exec "$node" --snapshot-blob "$here/qtrip.blob" -- "$@"
fi
exec "$node" "$here/qtrip.js" "$@"
