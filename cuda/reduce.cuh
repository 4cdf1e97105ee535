// Deterministic reductions for the CUDA kernels: a fixed number of blocks (a function of the size
// only), each thread striding over the same elements every run, a tree inside each block, and the
// block results added in block order by one final block. No atomics, so sums do not vary from run
// to run.
#pragma once

#include "cuda/cuda_backend.h"

namespace uniem::cuda {

// Tree sum of one SumPair per thread inside a block of threads_per_block threads; thread 0 gets it.
__device__ inline SumPair block_sum(SumPair v) {
  __shared__ double sums[threads_per_block], counts[threads_per_block];
  sums[threadIdx.x] = v.sum;
  counts[threadIdx.x] = v.count;
  __syncthreads();
  for (int half = threads_per_block / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      sums[threadIdx.x] += sums[threadIdx.x + half];
      counts[threadIdx.x] += counts[threadIdx.x + half];
    }
    __syncthreads();
  }
  SumPair r{sums[0], counts[0]};
  __syncthreads();  // the shared arrays may be reused by the caller's next block_sum
  return r;
}

template <typename Fn>
__global__ void partial_sums_kernel(int64_t n, Fn fn, SumPair* partial) {
  SumPair acc;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const SumPair v = fn(i);
    acc.sum += v.sum;
    acc.count += v.count;
  }
  const SumPair total = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

template <typename T>
__global__ void finish_sums_kernel(const SumPair* partial, int blocks, T* out_sum, T* out_count) {
  SumPair acc;
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
    acc.sum += partial[b].sum;
    acc.count += partial[b].count;
  }
  const SumPair total = block_sum(acc);
  if (threadIdx.x == 0) {
    if (out_sum) out_sum[0] = static_cast<T>(total.sum);
    if (out_count) out_count[0] = static_cast<T>(total.count);
  }
}

// Sums fn(i) -> SumPair over [0, n) into out_sum[0], out_count[0] (device pointers, may be null).
template <typename T, typename Fn>
void deterministic_sum(int64_t n, Fn fn, T* out_sum, T* out_count) {
  CudaBackend& be = cuda_backend();
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(1024, (n + 4 * threads_per_block - 1) /
                                                                                       (4 * threads_per_block))));
  auto partial = be.allocate(sizeof(SumPair) * static_cast<size_t>(blocks), Device::cuda(be.device_index()));
  SumPair* p = static_cast<SumPair*>(partial->data.get());
  partial_sums_kernel<<<blocks, threads_per_block, 0, be.stream()>>>(n, fn, p);
  check_launch("partial_sums");
  finish_sums_kernel<T><<<1, threads_per_block, 0, be.stream()>>>(p, blocks, out_sum, out_count);
  check_launch("finish_sums");
}

}  // namespace uniem::cuda
