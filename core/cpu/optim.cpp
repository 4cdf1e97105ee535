// Fused optimizer updates: one pass over each parameter, its gradient and its state.
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/threads.h"

namespace uniem {

void CpuBackend::sgd_step(const SgdParams& p, Tensor& param, const Tensor& grad, Tensor& momentum) {
  cpu::dispatch_float(param.dtype(), [&](auto z) {
    using T = decltype(z);
    T* w = param.data<T>();
    const T* g = grad.data<T>();
    T* m = momentum.defined() ? momentum.data<T>() : nullptr;
    const T lr = static_cast<T>(p.lr), mu = static_cast<T>(p.momentum), wd = static_cast<T>(p.weight_decay);
    parallel_for(0, param.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        T d = g[i] + wd * w[i];
        if (m) {
          m[i] = mu * m[i] + d;
          d = p.nesterov ? d + mu * m[i] : m[i];
        }
        w[i] -= lr * d;
      }
    });
  });
}

void CpuBackend::adam_step(const AdamParams& p, int64_t step, Tensor& param, const Tensor& grad, Tensor& m,
                           Tensor& v) {
  cpu::dispatch_float(param.dtype(), [&](auto z) {
    using T = decltype(z);
    T* w = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const double c1 = 1 - std::pow(p.beta1, static_cast<double>(step));
    const double c2 = 1 - std::pow(p.beta2, static_cast<double>(step));
    const T b1 = static_cast<T>(p.beta1), b2 = static_cast<T>(p.beta2), eps = static_cast<T>(p.eps);
    const T step_size = static_cast<T>(p.lr / c1), inv_sqrt_c2 = static_cast<T>(1 / std::sqrt(c2));
    const T wd = static_cast<T>(p.weight_decay), decay = static_cast<T>(1 - p.lr * p.weight_decay);
    parallel_for(0, param.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        T d = g[i];
        if (p.decoupled) w[i] *= decay;
        else d += wd * w[i];
        pm[i] = b1 * pm[i] + (1 - b1) * d;
        pv[i] = b2 * pv[i] + (1 - b2) * d * d;
        w[i] -= step_size * pm[i] / (std::sqrt(pv[i]) * inv_sqrt_c2 + eps);
      }
    });
  });
}

}  // namespace uniem
