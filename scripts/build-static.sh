#!/usr/bin/env bash
# Builds the fully static release binary build-static/uniem (no CUDA; see the CUDA issue for static-cuda).
# Needs the sources fetched by 'scripts/setup.sh --static'.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
cmake -S . -B build-static -DCMAKE_BUILD_TYPE=Release -DUNIEM_STATIC=ON -DUNIEM_CUDA=OFF -DUNIEM_WERROR=ON \
      -DUNIEM_SOURCES_DIR="$PWD/build-static/_sources" -DUNIEM_BUILD_TESTS=OFF >/dev/null
cmake --build build-static -j "$jobs" --target uniem
echo "static binary: build-static/uniem"
