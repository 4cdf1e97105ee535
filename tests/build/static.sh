#!/usr/bin/env bash
# Builds the fully static uniem (scripts/build-static.sh) and checks that it is static, runs
# --version, and round-trips a PNG folder and a multi-page TIFF through it.
set -euo pipefail
root=$1
cd "$root"
scripts/setup.sh --static
scripts/build-static.sh
bin="$root/build-static/uniem"
source "$root/tests/build/expect.sh"
expect "file" "$(file "$bin")" "statically linked"
expect "ldd" "$(ldd "$bin" 2>&1 || true)" "not a dynamic executable"
expect "--version" "$("$bin" --version)" "static"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth "$work/s" --shape 5,48,64 --quiet >/dev/null
"$bin" convert "$work/s/neurons" "$work/neurons.tif" --quiet >/dev/null
"$bin" convert "$work/neurons.tif" "$work/back" --quiet >/dev/null
expect "multi-page TIFF" "$("$bin" info "$work/neurons.tif" --json)" '"dtype": "uint16"'
# PNG -> TIFF -> PNG gives the same files, byte for byte (same voxels, voxel size and encoder).
cmp <(cat "$work"/s/neurons/*.png) <(cat "$work"/back/*.png) || { echo "FAILED: PNG -> TIFF -> PNG changed the files"; exit 1; }
echo "static binary OK"
