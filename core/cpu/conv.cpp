// The CPU backend's convolutions: the AVX-512 build of the kernels where the processor has it
// (and this build has one), the baseline build otherwise.
#include "core/cpu/conv_kernels.h"

namespace uniem {
namespace {

bool use_avx512() {
#if defined(UNIEM_HAVE_AVX512_KERNELS)
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
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
