#!/usr/bin/env bash
# Packs what the GPU checks need into .device/ (git-ignored) for a machine that has a GPU but not
# this checkout's build: test_cuda and bench_cuda from build/ with the shared libraries they use
# that such a machine may lack (.device/lib), the static-cuda uniem, gpu-check.sh (all the checks
# in one run), and env.sh, which points uniem at cuDNN and cuBLAS there (loaded at run time:
# cuda/libraries.h). See DEVELOPERS.md. Usage: scripts/gpu-bundle.sh (after make build)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device/lib
grep -qx '/.device/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.device/' >> .git/info/exclude; }
# uniem is the static-cuda release binary (built or brought up to date here), which needs nothing
# from .device/lib: what labs run, and room under the 64 MiB a device call carries.
scripts/setup.sh --static
scripts/build-static.sh --cuda > /dev/null
cp build/tests/test_cuda build/bench/bench_cuda build-static-cuda/uniem scripts/gpu-check.sh .device/
for bin in .device/test_cuda .device/bench_cuda; do
  ldd "$bin" | awk '{print $3}' |
    grep -v -E '^$|libc\.so|libm\.so|libstdc|libgcc|ld-linux|cudnn|cublas|libpthread|libdl|librt' |
    xargs -r -I{} cp -Ln {} .device/lib/ 2>/dev/null || true
done
cat > .device/env.sh <<'SH'
# cuDNN and cuBLAS: PyTorch's own where it is installed (so bench_cuda compares like with like),
# else the system's. Our other libraries: prefix .device/lib for test_cuda and uniem only (not
# for python3, which has its own).
libdirs=""
for lib in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13; do
  f=$(find /opt/torch -name "$lib" 2>/dev/null | head -1)
  [ -z "$f" ] && f=$(find /usr/local/cuda* /usr/lib -name "$lib" 2>/dev/null | head -1)
  [ -n "$f" ] && libdirs="$libdirs:$(dirname "$f")"
  # uniem loads these two itself (cuda/libraries.h); name the very files, as 'uniem devices' shows
  case "$lib" in
    libcudnn.so.9) [ -n "$f" ] && export UNIEM_CUDNN="$f" ;;
    libcublas.so.13) [ -n "$f" ] && export UNIEM_CUBLAS="$f" ;;
  esac
done
export LD_LIBRARY_PATH="${libdirs#:}:${LD_LIBRARY_PATH:-}"
SH
du -sh .device
