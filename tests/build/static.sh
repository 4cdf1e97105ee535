#!/usr/bin/env bash
# Builds the fully static uniem (scripts/build-static.sh) and checks that it is static, runs
# --version, round-trips a PNG folder and a multi-page TIFF through it, and starts the workbench
# (its job store is SQLite, linked in).
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
# HDF5 (libhdf5 linked in): the labels into a dataset and back, the same TIFF.
"$bin" convert "$work/neurons.tif" "$work/neurons.h5:volumes/labels" --quiet >/dev/null
"$bin" convert "$work/neurons.h5:volumes/labels" "$work/from-hdf5.tif" --quiet >/dev/null
cmp "$work/neurons.tif" "$work/from-hdf5.tif" || { echo "FAILED: TIFF -> HDF5 -> TIFF changed the file"; exit 1; }
# The workbench starts and keeps its job queue in SQLite (linked in).
"$bin" workbench "$work" --port 0 >"$work/workbench.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "is at" "$work/workbench.log" && break; sleep 0.1; done
kill "$server"; wait "$server" || true
expect "workbench" "$(cat "$work/workbench.log")" "The workbench for"
[ -s "$work/.uniem/jobs.sqlite" ] || { echo "FAILED: the workbench made no job store"; exit 1; }
echo "static binary OK"
