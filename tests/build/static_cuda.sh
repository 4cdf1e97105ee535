#!/usr/bin/env bash
# Builds the static-cuda uniem (scripts/build-static.sh --cuda, as `make static-cuda`) and checks what it needs at run time: glibc only, no C++ runtime, no
# third-party library and no cuBLAS or cuDNN; that it runs CPU work, lists the libraries it would
# use for a GPU, and names one that does not load. Exit 77 (skipped) without nvcc.
set -euo pipefail
root=$1
cd "$root"
command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] || { echo "skipped: no nvcc"; exit 77; }
scripts/setup.sh --static
scripts/build-static.sh --cuda
bin="$root/build-static-cuda/uniem"
source "$root/tests/build/expect.sh"
expect "file" "$(file "$bin")" "dynamically linked"
# Every library the loader must find is part of glibc.
needed=$(objdump -p "$bin" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
echo "needed: $needed"
for lib in $needed; do
  case "$lib" in
    libc.so.6|libm.so.6|libdl.so.2|librt.so.1|libpthread.so.0|ld-linux-x86-64.so.2) ;;
    *) echo "FAILED: static-cuda uniem needs $lib at start-up"; exit 1 ;;
  esac
done
expect "--version" "$("$bin" --version)" "static-cuda"
expect "--version" "$("$bin" --version)" "CUDA: on"
devices=$("$bin" devices)
expect "devices" "$devices" "CUDA runtime"
[[ "$devices" == *$'\ncuDNN 9.'* || "$devices" == *$'\ncuDNN: not usable'* ]] || { echo "FAILED: devices names no cuDNN"; exit 1; }
expect "devices with a bad UNIEM_CUBLAS" "$(UNIEM_CUBLAS=/nonexistent/libcublas.so.13 "$bin" devices)" \
  "cuBLAS: not usable: UNIEM_CUBLAS names a library that does not load: /nonexistent/libcublas.so.13"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth "$work/s" --shape 5,48,64 --quiet >/dev/null
"$bin" convert "$work/s/neurons" "$work/neurons.tif" --quiet >/dev/null
expect "multi-page TIFF" "$("$bin" info "$work/neurons.tif" --json)" '"dtype": "uint16"'
# A network runs too: on the CPU here unless a GPU is usable.
expect "demo" "$("$bin" demo --no-serve --shape 4,32,32 --output "$work/demo")" "computing on"
[[ -f "$work/demo/cnn/model/model.json" ]] || { echo "FAILED: demo made no model"; exit 1; }
echo "static-cuda binary OK"
