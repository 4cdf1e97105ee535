// The element-type conversion kernel, shared by CudaBackend::cast (memory.cu) and the bfloat16
// copies of the bf16 convolutions (conv.cu). static_cast rounds to nearest even into bfloat16.
#pragma once

#include <cstdint>

namespace uniem::cuda {

template <typename S, typename D>
__global__ void cast_kernel(const S* in, D* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    out[i] = static_cast<D>(in[i]);
}

}  // namespace uniem::cuda
