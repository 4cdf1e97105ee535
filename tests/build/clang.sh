#!/usr/bin/env bash
# Builds the libraries and the uniem program with clang 14, -Wall -Wextra -Werror, in build-clang/
# (without CUDA: nvcc takes the host compiler it was made for; without the tests and benchmarks,
# which the everyday GCC build already compiles with -Werror, to keep the test run short). Without
# optimisation: what it checks is clang's view of the code (its warnings, its reading of the
# standard), which does not depend on it, and it compiles in half the time.
set -euo pipefail
root=$1
cd "$root"
command -v clang++ >/dev/null || { echo "clang++ missing: run scripts/setup.sh"; exit 1; }
cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=ClangCheck -DCMAKE_CXX_FLAGS_CLANGCHECK=-O0 -DCMAKE_C_FLAGS_CLANGCHECK=-O0 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DUNIEM_CUDA=OFF -DUNIEM_WERROR=ON -DUNIEM_BUILD_TESTS=OFF >/dev/null
cmake --build build-clang -j "$(nproc)" --target uniem
echo "clang build OK"
