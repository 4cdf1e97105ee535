// The CPU backend's convolutions: the AVX-512 build of the kernels where the processor has it
// (and this build has one), the baseline build (AVX2) otherwise. UNIEM_CPU_KERNELS=baseline
// forces the baseline everywhere: the same numbers on every x86-64 lab PC, and the way the
// tests check the baseline kernels on an AVX-512 machine.
#include <cstdlib>
#include <string>

#include "core/cpu/conv_kernels.h"
#include "core/error.h"

namespace uniem {
namespace {

bool use_avx512() {
#if defined(UNIEM_HAVE_AVX512_KERNELS)
  static const bool yes = [] {
    const char* env = std::getenv("UNIEM_CPU_KERNELS");
    const std::string choice = env ? env : "";
    if (choice == "baseline") return false;
    if (!choice.empty() && choice != "auto")
      throw UsageError("UNIEM_CPU_KERNELS=" + choice + ": expected 'auto' (the default) or 'baseline'");
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace

void CpuBackend::conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  if (use_avx512()) cpu::avx512::conv_forward(p, x, w, b, y);
  else cpu::baseline::conv_forward(p, x, w, b, y);
}

void CpuBackend::conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx) {
  if (use_avx512()) cpu::avx512::conv_backward_data(p, gy, w, gx);
  else cpu::baseline::conv_backward_data(p, gy, w, gx);
}

void CpuBackend::conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw,
                                      Tensor& gb) {
  if (use_avx512()) cpu::avx512::conv_backward_filter(p, x, gy, gw, gb);
  else cpu::baseline::conv_backward_filter(p, x, gy, gw, gb);
}

}  // namespace uniem
