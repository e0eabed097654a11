#!/bin/sh
# build-qemu.sh: a QEMU with debug information, for the host probe point `qemu`
# (a uprobe in QEMU's kvm_arch_post_run needs QEMU's DWARF; Debian ships none).
# Debian's own source package (apt-get source, with a private apt state: the
# machine's sources list is not touched), only the x86_64 system emulator, KVM
# only (no TCG), default features off. The build is cached outside the repo,
# keyed by the source package's .dsc and this script:
#   /var/cache/qtrip/qemu-VERSION-KEY/qemu-system-x86_64
# Prints that path. Needs: dpkg-dev, meson, ninja-build, gcc, libglib2.0-dev,
# libpixman-1-dev, libfdt-dev, zlib1g-dev, flex, bison.
set -eu
cache=${QTRIP_QEMU_CACHE:-/var/cache/qtrip}
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
cat > "$apt_dir/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm-updates main
EOF
apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache::Archives=$apt_dir/archives"
# The version Debian's qemu-system-x86 on this machine was built from (the same QEMU, with DWARF).
version=$(dpkg-query -W -f '${source:Version}' qemu-system-x86 2>/dev/null || true)
src=$cache/src
mkdir -p "$src"
if [ -z "$version" ] || [ ! -f "$src/qemu_$(echo "$version" | sed 's/^[0-9]*://').dsc" ]; then
  apt-get $apt_opts -qq update >&2
  (cd "$src" && apt-get $apt_opts -qq source --download-only "qemu${version:+=$version}" >&2)
fi
dsc=$(ls "$src"/qemu_*.dsc | sort | tail -n 1)
key=$( (sha256sum "$dsc" | cut -d' ' -f1; sha256sum "$0" | cut -d' ' -f1) | sha256sum | cut -c1-12)
out=$cache/qemu-$(basename "$dsc" .dsc | sed 's/^qemu_//')-$key
if [ -x "$out/qemu-system-x86_64" ]; then echo "$out/qemu-system-x86_64"; exit 0; fi

work=$(mktemp -d "$cache/build-XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-source -x "$dsc" "$work/qemu" >&2
cd "$work/qemu"
./configure --target-list=x86_64-softmmu --without-default-features --enable-kvm --disable-tcg \
  --disable-docs --disable-werror --enable-debug-info --disable-install-blobs --disable-strip >&2
ninja -C build qemu-system-x86_64 >&2
mkdir -p "$out.tmp"
cp build/qemu-system-x86_64 "$out.tmp/"
mv "$out.tmp" "$out"
echo "$out/qemu-system-x86_64"
