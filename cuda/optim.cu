// Fused optimizer updates on the GPU: one pass over each parameter, its gradient and its state,
// the same arithmetic as core/cpu/optim.cpp.
#include <cmath>

#include "cuda/cuda_backend.h"

namespace uniem::cuda {
namespace {

template <typename T>
__global__ void sgd_kernel(T* w, const T* g, T* m, int64_t n, T lr, T mu, T wd, bool nesterov) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    T d = g[i] + wd * w[i];
    if (m) {
      m[i] = mu * m[i] + d;
      d = nesterov ? d + mu * m[i] : m[i];
    }
    w[i] -= lr * d;
  }
}

template <typename T>
__global__ void adam_kernel(T* w, const T* g, T* pm, T* pv, int64_t n, T b1, T b2, T eps, T step_size,
                            T inv_sqrt_c2, T wd, T decay, bool decoupled) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    T d = g[i];
    if (decoupled) w[i] *= decay;
    else d += wd * w[i];
    pm[i] = b1 * pm[i] + (1 - b1) * d;
    pv[i] = b2 * pv[i] + (1 - b2) * d * d;
    w[i] -= step_size * pm[i] / (sqrt(pv[i]) * inv_sqrt_c2 + eps);
  }
}

}  // namespace

void CudaBackend::sgd_step(const SgdParams& p, Tensor& param, const Tensor& grad, Tensor& momentum) {
  const OpTimer timer(*this, "sgd_step");
  dispatch_float(param.dtype(), [&](auto z) {
    using T = decltype(z);
    sgd_kernel<T><<<blocks_for(param.numel()), threads_per_block, 0, stream_>>>(
        ptr<T>(param), ptr<T>(grad), momentum.defined() ? ptr<T>(momentum) : nullptr, param.numel(),
        static_cast<T>(p.lr), static_cast<T>(p.momentum), static_cast<T>(p.weight_decay), p.nesterov);
  });
  check_launch("sgd_step");
}

void CudaBackend::adam_step(const AdamParams& p, int64_t step, Tensor& param, const Tensor& grad, Tensor& m,
                            Tensor& v) {
  const OpTimer timer(*this, "adam_step");
  dispatch_float(param.dtype(), [&](auto z) {
    using T = decltype(z);
    const double c1 = 1 - std::pow(p.beta1, static_cast<double>(step));
    const double c2 = 1 - std::pow(p.beta2, static_cast<double>(step));
    adam_kernel<T><<<blocks_for(param.numel()), threads_per_block, 0, stream_>>>(
        ptr<T>(param), ptr<T>(grad), ptr<T>(m), ptr<T>(v), param.numel(), static_cast<T>(p.beta1),
        static_cast<T>(p.beta2), static_cast<T>(p.eps), static_cast<T>(p.lr / c1), static_cast<T>(1 / std::sqrt(c2)),
        static_cast<T>(p.weight_decay), static_cast<T>(1 - p.lr * p.weight_decay), p.decoupled);
  });
  check_launch("adam_step");
}

}  // namespace uniem::cuda
