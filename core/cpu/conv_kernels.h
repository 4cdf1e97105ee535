// The convolution kernels of the CPU backend, built once per instruction set (conv_kernels.cpp).
#pragma once

#include "core/cpu/cpu_backend.h"

#ifndef UNIEM_CONV_ISA
#define UNIEM_CONV_ISA baseline
#endif

namespace uniem::cpu {

#define UNIEM_DECLARE_CONV_KERNELS(isa)                                                                     \
  namespace isa {                                                                                         \
  void conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y);   \
  void conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx);           \
  void conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw, Tensor& gb); \
  }
UNIEM_DECLARE_CONV_KERNELS(baseline)
UNIEM_DECLARE_CONV_KERNELS(avx512)
#undef UNIEM_DECLARE_CONV_KERNELS

}  // namespace uniem::cpu
