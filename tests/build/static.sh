#!/usr/bin/env bash
# Builds the fully static uniem (scripts/build-static.sh) and checks that it is static, runs
# --version, and round-trips a PNG folder and a multi-page TIFF through it.
set -euo pipefail
root=$1
cd "$root"
scripts/setup.sh --static
scripts/build-static.sh
bin="$root/build-static/uniem"
file "$bin" | tee /dev/stderr | grep -q "statically linked"
ldd "$bin" 2>&1 | tee /dev/stderr | grep -q "not a dynamic executable"
"$bin" --version | tee /dev/stderr | grep -q "static"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth "$work/s" --shape 5,48,64 --quiet
"$bin" convert "$work/s/neurons" "$work/neurons.tif" --quiet
"$bin" convert "$work/neurons.tif" "$work/back" --quiet
cmp <(cd "$work/s/neurons" && cat *.png | md5sum) <(cd "$work/back" && cat *.png | md5sum) >/dev/null || {
  # PNG bytes may differ only if the metadata did; compare the voxels through uniem itself.
  a=$("$bin" info "$work/s/neurons" --json | grep -E '"(sum|mean|std|max|distinct_values)"')
  b=$("$bin" info "$work/back" --json | grep -E '"(sum|mean|std|max|distinct_values)"')
  [ "$a" = "$b" ]
}
"$bin" info "$work/neurons.tif" --json | grep -q '"dtype": "uint16"'
echo "static binary OK"
