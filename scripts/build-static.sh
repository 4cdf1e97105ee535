#!/usr/bin/env bash
# Builds the release binaries. Needs the sources fetched by 'scripts/setup.sh --static'.
#   scripts/build-static.sh          build-static/uniem: fully static, no CUDA, runs on any x86-64 Linux
#   scripts/build-static.sh --cuda   build-static-cuda/uniem: static except glibc, with the CUDA backend;
#                                    the NVIDIA driver, cuBLAS and cuDNN are found when a GPU is used
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
dir=build-static cuda=OFF
if [[ "${1:-}" == "--cuda" ]]; then
  dir=build-static-cuda cuda=ON
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DUNIEM_STATIC=ON -DUNIEM_CUDA=$cuda -DUNIEM_WERROR=ON \
      -DUNIEM_SOURCES_DIR="$PWD/build-static/_sources" -DUNIEM_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$jobs" --target uniem
echo "release binary: $dir/uniem"
