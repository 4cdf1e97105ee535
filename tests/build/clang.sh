#!/usr/bin/env bash
# Builds everything with clang 14, -Wall -Wextra -Werror, in build-clang/ (without CUDA: nvcc
# takes the host compiler it was made for).
set -euo pipefail
root=$1
cd "$root"
command -v clang++ >/dev/null || { echo "clang++ missing: run scripts/setup.sh"; exit 1; }
cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DUNIEM_CUDA=OFF -DUNIEM_WERROR=ON >/dev/null
cmake --build build-clang -j "$(nproc)"
echo "clang build OK"
