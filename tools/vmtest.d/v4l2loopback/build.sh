#!/usr/bin/env bash
# build.sh SRC BUILD HEADERS — build v4l2loopback.ko from Debian's
# v4l2loopback-dkms source (SRC = its usr/src/v4l2loopback-VERSION) against
# HEADERS, in BUILD.
set -euo pipefail
src=$1 build=$2 headers=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$build"; mkdir -p "$build"
cp "$here/Kbuild" "$build/Kbuild"
cp "$src/v4l2loopback.c" "$src/v4l2loopback_formats.h" "$build/"
make -C "$headers" M="$build" -j2 modules 2>&1 | tee "$build/make.log"
# modpost only warns about unresolved symbols; a module with one would not load.
if grep -q 'undefined!' "$build/make.log"; then echo "v4l2loopback: unresolved symbols" >&2; exit 1; fi
test -f "$build/v4l2loopback.ko"
