#!/usr/bin/env bash
# The GPU checks in one run, for a machine lent for a few minutes (see DEVELOPERS.md): run from the
# checkout's root with .device/ (scripts/gpu-bundle.sh) carried along. Writes each step's output to
# $OUT (or ./gpu-check-output) and goes on after a failing step; exit 1 if any failed.
#   .device/gpu-check.sh [quick]     quick: the tests and one short benchmark only
set -uo pipefail
out=${OUT:-gpu-check-output}
mkdir -p "$out"
source .device/env.sh
ours="$PWD/.device/lib:${LD_LIBRARY_PATH:-}"  # our libraries for our programs, not for python3
failed=0
step() {  # step NAME COMMAND...: runs it, keeps its output, reports its time and exit code
  local name=$1 begin=$SECONDS
  shift
  "$@" > "$out/$name.txt" 2>&1
  local rc=$?
  echo "$name: exit $rc, $((SECONDS - begin)) s"
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || failed=1  # 77: skipped (no usable GPU)
  tail -n 25 "$out/$name.txt"
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/nvidia-smi.txt" 2>&1
step devices .device/uniem devices
step test_cuda env LD_LIBRARY_PATH="$ours" .device/test_cuda
# Convolutions through cuDNN's graph API instead of the legacy calls (cuda/conv_graph.h).
step test_cuda_graph env LD_LIBRARY_PATH="$ours" UNIEM_CUDNN_API=graph .device/test_cuda
if [ "${1:-}" = quick ]; then
  step bench_tf32_quick .device/bench_cuda --precision tf32 --quick
  step bench_tf32_graph_quick env UNIEM_CUDNN_API=graph .device/bench_cuda --precision tf32 --quick
else
  step bench_tf32_profile .device/bench_cuda --precision tf32 --profile
  step bench_tf32_graph_profile env UNIEM_CUDNN_API=graph .device/bench_cuda --precision tf32 --profile
  step bench_bf16_graph env UNIEM_CUDNN_API=graph .device/bench_cuda --precision bf16
  step bench_fp32_graph env UNIEM_CUDNN_API=graph .device/bench_cuda --precision fp32 --quick
fi
exit $failed
