// Batch normalisation (Ioffe & Szegedy 2015) per channel over (N, D, H, W), and softmax /
// log-softmax over the channel dimension. Statistics are summed in double, parallel over channels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/threads.h"

namespace uniem {

void CpuBackend::batch_norm_forward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& gamma,
                                    const Tensor& beta, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                    Tensor& save_mean, Tensor& save_invstd) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / std::max<int64_t>(n * c, 1);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T* g = gamma.data<T>();
    const T* b = beta.data<T>();
    T* rm = running_mean.data<T>();
    T* rv = running_var.data<T>();
    const double count = static_cast<double>(n * inner);
    parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        double mean, invstd;
        if (training) {
          double sum = 0;
          for (int64_t s = 0; s < n; ++s) {
            const T* row = px + (s * c + ch) * inner;
            for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(row[i]);
          }
          mean = sum / count;
          double sq = 0;
          for (int64_t s = 0; s < n; ++s) {
            const T* row = px + (s * c + ch) * inner;
            for (int64_t i = 0; i < inner; ++i) {
              const double d = static_cast<double>(row[i]) - mean;
              sq += d * d;
            }
          }
          const double var = sq / count;
          invstd = 1.0 / std::sqrt(var + p.eps);
          save_mean.data<T>()[ch] = static_cast<T>(mean);
          save_invstd.data<T>()[ch] = static_cast<T>(invstd);
          const double unbiased = count > 1 ? var * count / (count - 1) : var;
          rm[ch] = static_cast<T>((1 - p.momentum) * static_cast<double>(rm[ch]) + p.momentum * mean);
          rv[ch] = static_cast<T>((1 - p.momentum) * static_cast<double>(rv[ch]) + p.momentum * unbiased);
        } else {
          mean = static_cast<double>(rm[ch]);
          invstd = 1.0 / std::sqrt(static_cast<double>(rv[ch]) + p.eps);
        }
        const T scale = static_cast<T>(invstd * static_cast<double>(g[ch]));
        const T shift = static_cast<T>(static_cast<double>(b[ch]) - mean * invstd * static_cast<double>(g[ch]));
        for (int64_t s = 0; s < n; ++s) {
          const T* row = px + (s * c + ch) * inner;
          T* out = py + (s * c + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) out[i] = row[i] * scale + shift;
        }
      }
    });
  });
}

void CpuBackend::batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                                     const Tensor& save_invstd, const Tensor& gy, Tensor& gx, Tensor& gamma_grad,
                                     Tensor& beta_grad) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / std::max<int64_t>(n * c, 1);
    const T* px = x.data<T>();
    const T* pg = gy.data<T>();
    T* out = gx.data<T>();
    const double count = static_cast<double>(n * inner);
    parallel_for(0, c, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const double mean = static_cast<double>(save_mean.data<T>()[ch]);
        const double invstd = static_cast<double>(save_invstd.data<T>()[ch]);
        double sum_g = 0, sum_gx = 0;  // sum of gy, and of gy * xhat
        for (int64_t s = 0; s < n; ++s) {
          const T* row = px + (s * c + ch) * inner;
          const T* grow = pg + (s * c + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            sum_g += static_cast<double>(grow[i]);
            sum_gx += static_cast<double>(grow[i]) * (static_cast<double>(row[i]) - mean) * invstd;
          }
        }
        gamma_grad.data<T>()[ch] = static_cast<T>(sum_gx);
        beta_grad.data<T>()[ch] = static_cast<T>(sum_g);
        // dx = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))
        const double k = static_cast<double>(gamma.data<T>()[ch]) * invstd;
        const double mg = sum_g / count, mgx = sum_gx / count;
        for (int64_t s = 0; s < n; ++s) {
          const T* row = px + (s * c + ch) * inner;
          const T* grow = pg + (s * c + ch) * inner;
          T* o = out + (s * c + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const double xhat = (static_cast<double>(row[i]) - mean) * invstd;
            o[i] = static_cast<T>(k * (static_cast<double>(grow[i]) - mg - xhat * mgx));
          }
        }
      }
    });
  });
}

namespace {
// Runs fn(n, s0, s1) over spatial blocks of every sample of an (N, C, inner) tensor.
template <typename Fn>
void for_spatial_blocks(int64_t n, int64_t inner, Fn&& fn) {
  constexpr int64_t block = 1024;
  const int64_t blocks = (inner + block - 1) / block;
  parallel_for(0, n * blocks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t s0 = (t % blocks) * block;
      fn(t / blocks, s0, std::min(inner, s0 + block));
    }
  });
}
}  // namespace

void CpuBackend::softmax_forward(bool log, const Tensor& x, Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / std::max<int64_t>(n * c, 1);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_spatial_blocks(n, inner, [&](int64_t s, int64_t i0, int64_t i1) {
      const T* xs = px + s * c * inner;
      T* ys = py + s * c * inner;
      std::vector<T> mx(static_cast<size_t>(i1 - i0)), sum(static_cast<size_t>(i1 - i0), T(0));
      for (int64_t i = i0; i < i1; ++i) mx[static_cast<size_t>(i - i0)] = xs[i];
      for (int64_t k = 1; k < c; ++k)
        for (int64_t i = i0; i < i1; ++i) mx[static_cast<size_t>(i - i0)] = std::max(mx[static_cast<size_t>(i - i0)], xs[k * inner + i]);
      for (int64_t k = 0; k < c; ++k)
        for (int64_t i = i0; i < i1; ++i) {
          const T e = std::exp(xs[k * inner + i] - mx[static_cast<size_t>(i - i0)]);
          sum[static_cast<size_t>(i - i0)] += e;
          ys[k * inner + i] = e;
        }
      for (int64_t k = 0; k < c; ++k)
        for (int64_t i = i0; i < i1; ++i) {
          const size_t j = static_cast<size_t>(i - i0);
          ys[k * inner + i] = log ? xs[k * inner + i] - mx[j] - std::log(sum[j]) : ys[k * inner + i] / sum[j];
        }
    });
  });
}

void CpuBackend::softmax_backward(bool log, const Tensor& y, const Tensor& gy, Tensor& gx) {
  cpu::dispatch_float(y.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = y.size(0), c = y.size(1), inner = y.numel() / std::max<int64_t>(n * c, 1);
    const T* py = y.data<T>();
    const T* pg = gy.data<T>();
    T* out = gx.data<T>();
    for_spatial_blocks(n, inner, [&](int64_t s, int64_t i0, int64_t i1) {
      const int64_t base = s * c * inner;
      std::vector<T> dot(static_cast<size_t>(i1 - i0), T(0));
      // softmax: gx = y (gy - sum gy y); log-softmax: gx = gy - exp(y) sum gy
      for (int64_t k = 0; k < c; ++k)
        for (int64_t i = i0; i < i1; ++i)
          dot[static_cast<size_t>(i - i0)] += log ? pg[base + k * inner + i] : pg[base + k * inner + i] * py[base + k * inner + i];
      for (int64_t k = 0; k < c; ++k)
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t at = base + k * inner + i;
          const T d = dot[static_cast<size_t>(i - i0)];
          out[at] = log ? pg[at] - std::exp(py[at]) * d : py[at] * (pg[at] - d);
        }
    });
  });
}

}  // namespace uniem
