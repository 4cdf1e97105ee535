// Batch normalisation per channel over (N, D, H, W), and softmax / log-softmax over channels, on
// the GPU. Our own kernels: the statistics are summed in double in a fixed order (each channel cut
// into a number of splits that depends on the shape only, the splits added in order), which keeps
// training reproducible; cuDNN's batch norm gives no such promise.
//
// Per channel the sums are of d = x - x0 and d^2 (x0 the channel's first value, which keeps the
// one-pass variance accurate), then mean = x0 + sum d / M and var = sum d^2 / M - (sum d / M)^2.
#include <algorithm>
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/reduce.cuh"

namespace uniem::cuda {
namespace {

struct Layout {
  int64_t n, c, inner, m;  // m = n * inner values per channel
  int splits;
  int64_t per_split;
};

Layout layout(const Tensor& x) {
  Layout l;
  l.n = x.size(0);
  l.c = x.size(1);
  l.inner = x.numel() / std::max<int64_t>(l.n * l.c, 1);
  l.m = l.n * l.inner;
  // Enough blocks to fill a large GPU, each with at least 4096 values.
  const int64_t want = std::max<int64_t>(1, 1024 / std::max<int64_t>(l.c, 1));
  l.splits = static_cast<int>(std::max<int64_t>(1, std::min(want, (l.m + 4095) / 4096)));
  l.per_split = (l.m + l.splits - 1) / l.splits;
  return l;
}

__device__ inline int64_t at(const Layout& l, int64_t ch, int64_t m) {
  return ((m / l.inner) * l.c + ch) * l.inner + m % l.inner;
}

// Partial sums of (x - x0) and (x - x0)^2 for block (split, channel).
template <typename T>
__global__ void bn_stats_kernel(Layout l, const T* x, SumPair* partial) {
  const int64_t ch = blockIdx.y, split = blockIdx.x;
  const double x0 = static_cast<double>(x[ch * l.inner]);
  const int64_t end = min(l.m, (split + 1) * l.per_split);
  SumPair acc;
  for (int64_t m = split * l.per_split + threadIdx.x; m < end; m += blockDim.x) {
    const double d = static_cast<double>(x[at(l, ch, m)]) - x0;
    acc.sum += d;
    acc.count += d * d;
  }
  const SumPair total = block_sum(acc);
  if (threadIdx.x == 0) partial[ch * l.splits + split] = total;
}

// Per channel: the statistics (training) or the running ones (evaluation), as y = x * scale + shift.
template <typename T>
__global__ void bn_finish_kernel(Layout l, bool training, double momentum, double eps, const T* x,
                                 const SumPair* partial, const T* gamma, const T* beta, T* running_mean,
                                 T* running_var, T* save_mean, T* save_invstd, double* scale_shift) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch >= l.c) return;
  double mean, invstd;
  if (training) {
    double s = 0, sq = 0;
    for (int i = 0; i < l.splits; ++i) {
      s += partial[ch * l.splits + i].sum;
      sq += partial[ch * l.splits + i].count;
    }
    const double count = static_cast<double>(l.m), dm = s / count;
    mean = static_cast<double>(x[ch * l.inner]) + dm;
    const double var = fmax(sq / count - dm * dm, 0.0);
    invstd = 1.0 / sqrt(var + eps);
    save_mean[ch] = static_cast<T>(mean);
    save_invstd[ch] = static_cast<T>(invstd);
    const double unbiased = count > 1 ? var * count / (count - 1) : var;
    running_mean[ch] = static_cast<T>((1 - momentum) * static_cast<double>(running_mean[ch]) + momentum * mean);
    running_var[ch] = static_cast<T>((1 - momentum) * static_cast<double>(running_var[ch]) + momentum * unbiased);
  } else {
    mean = static_cast<double>(running_mean[ch]);
    invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  }
  scale_shift[2 * ch] = invstd * static_cast<double>(gamma[ch]);
  scale_shift[2 * ch + 1] = static_cast<double>(beta[ch]) - mean * invstd * static_cast<double>(gamma[ch]);
}

// The per-element passes run on a grid of (plane, chunk of the plane), so the channel is found
// once per block rather than by a division per element.
dim3 plane_grid(int64_t planes, int64_t inner) {
  return dim3(static_cast<unsigned>(planes),
              static_cast<unsigned>(std::min<int64_t>(65535, (inner + threads_per_block - 1) / threads_per_block)));
}

template <typename T>
__global__ void bn_apply_kernel(int64_t c, int64_t inner, const T* x, const double* scale_shift, T* y) {
  const int64_t plane = blockIdx.x, ch = plane % c;
  const T scale = static_cast<T>(scale_shift[2 * ch]), shift = static_cast<T>(scale_shift[2 * ch + 1]);
  const T* xp = x + plane * inner;
  T* yp = y + plane * inner;
  for (int64_t i = blockIdx.y * int64_t{blockDim.x} + threadIdx.x; i < inner; i += int64_t{gridDim.y} * blockDim.x)
    yp[i] = xp[i] * scale + shift;
}

// Partial sums of gy and gy * xhat for block (split, channel).
template <typename T>
__global__ void bn_grad_stats_kernel(Layout l, const T* x, const T* gy, const T* save_mean, const T* save_invstd,
                                     SumPair* partial) {
  const int64_t ch = blockIdx.y, split = blockIdx.x;
  const double mean = static_cast<double>(save_mean[ch]), invstd = static_cast<double>(save_invstd[ch]);
  const int64_t end = min(l.m, (split + 1) * l.per_split);
  SumPair acc;
  for (int64_t m = split * l.per_split + threadIdx.x; m < end; m += blockDim.x) {
    const int64_t i = at(l, ch, m);
    const double g = static_cast<double>(gy[i]);
    acc.sum += g;
    acc.count += g * (static_cast<double>(x[i]) - mean) * invstd;
  }
  const SumPair total = block_sum(acc);
  if (threadIdx.x == 0) partial[ch * l.splits + split] = total;
}

// Per channel: the parameter gradients, and (k, mean gy, mean gy*xhat) for dx.
template <typename T>
__global__ void bn_grad_finish_kernel(Layout l, const SumPair* partial, const T* gamma, const T* save_invstd,
                                      T* gamma_grad, T* beta_grad, double* coeff) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch >= l.c) return;
  double sum_g = 0, sum_gx = 0;
  for (int i = 0; i < l.splits; ++i) {
    sum_g += partial[ch * l.splits + i].sum;
    sum_gx += partial[ch * l.splits + i].count;
  }
  gamma_grad[ch] = static_cast<T>(sum_gx);
  beta_grad[ch] = static_cast<T>(sum_g);
  const double count = static_cast<double>(l.m);
  coeff[3 * ch] = static_cast<double>(gamma[ch]) * static_cast<double>(save_invstd[ch]);
  coeff[3 * ch + 1] = sum_g / count;
  coeff[3 * ch + 2] = sum_gx / count;
}

// dx = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))
template <typename T>
__global__ void bn_grad_apply_kernel(int64_t c, int64_t inner, const T* x, const T* gy, const T* save_mean,
                                     const T* save_invstd, const double* coeff, T* gx) {
  const int64_t plane = blockIdx.x, ch = plane % c;
  const double mean = static_cast<double>(save_mean[ch]), invstd = static_cast<double>(save_invstd[ch]);
  const double k = coeff[3 * ch], mg = coeff[3 * ch + 1], mgx = coeff[3 * ch + 2];
  const int64_t base = plane * inner;
  for (int64_t i = blockIdx.y * int64_t{blockDim.x} + threadIdx.x; i < inner; i += int64_t{gridDim.y} * blockDim.x) {
    const double xhat = (static_cast<double>(x[base + i]) - mean) * invstd;
    gx[base + i] = static_cast<T>(k * (static_cast<double>(gy[base + i]) - mg - xhat * mgx));
  }
}

template <typename T>
__global__ void softmax_kernel(bool log_mode, const T* x, T* y, int64_t n, int64_t c, int64_t inner) {
  for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < n * inner; p += int64_t{gridDim.x} * blockDim.x) {
    const int64_t base = (p / inner) * c * inner + p % inner;
    T mx = x[base];
    for (int64_t k = 1; k < c; ++k) mx = fmax(mx, x[base + k * inner]);
    T sum = 0;
    for (int64_t k = 0; k < c; ++k) sum += exp(x[base + k * inner] - mx);
    for (int64_t k = 0; k < c; ++k) {
      const T v = x[base + k * inner];
      y[base + k * inner] = log_mode ? v - mx - log(sum) : exp(v - mx) / sum;
    }
  }
}

// softmax: gx = y (gy - sum gy y); log-softmax: gx = gy - exp(y) sum gy
template <typename T>
__global__ void softmax_backward_kernel(bool log_mode, const T* y, const T* gy, T* gx, int64_t n, int64_t c,
                                        int64_t inner) {
  for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < n * inner; p += int64_t{gridDim.x} * blockDim.x) {
    const int64_t base = (p / inner) * c * inner + p % inner;
    T dot = 0;
    for (int64_t k = 0; k < c; ++k) dot += log_mode ? gy[base + k * inner] : gy[base + k * inner] * y[base + k * inner];
    for (int64_t k = 0; k < c; ++k) {
      const int64_t a = base + k * inner;
      gx[a] = log_mode ? gy[a] - exp(y[a]) * dot : y[a] * (gy[a] - dot);
    }
  }
}

}  // namespace

void CudaBackend::batch_norm_forward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& gamma,
                                     const Tensor& beta, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                     Tensor& save_mean, Tensor& save_invstd) {
  const OpTimer timer(*this, "batch_norm_forward");
  const Layout l = layout(x);
  auto scale_shift = allocate(sizeof(double) * 2 * static_cast<size_t>(l.c), x.device());
  auto partial = allocate(sizeof(SumPair) * static_cast<size_t>(l.c * l.splits), x.device());
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    SumPair* pp = static_cast<SumPair*>(partial->data.get());
    if (training) {
      bn_stats_kernel<T><<<dim3(static_cast<unsigned>(l.splits), static_cast<unsigned>(l.c)), threads_per_block, 0,
                           stream_>>>(l, ptr<T>(x), pp);
      check_launch("bn_stats");
    }
    bn_finish_kernel<T><<<blocks_for(l.c), threads_per_block, 0, stream_>>>(
        l, training, p.momentum, p.eps, ptr<T>(x), pp, ptr<T>(gamma), ptr<T>(beta), ptr<T>(running_mean),
        ptr<T>(running_var), training ? ptr<T>(save_mean) : nullptr, training ? ptr<T>(save_invstd) : nullptr,
        static_cast<double*>(scale_shift->data.get()));
    check_launch("bn_finish");
    bn_apply_kernel<T><<<plane_grid(l.n * l.c, l.inner), threads_per_block, 0, stream_>>>(
        l.c, l.inner, ptr<T>(x), static_cast<const double*>(scale_shift->data.get()), ptr<T>(y));
    check_launch("bn_apply");
  });
}

void CudaBackend::batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                                      const Tensor& save_invstd, const Tensor& gy, Tensor& gx, Tensor& gamma_grad,
                                      Tensor& beta_grad) {
  const OpTimer timer(*this, "batch_norm_backward");
  const Layout l = layout(x);
  auto coeff = allocate(sizeof(double) * 3 * static_cast<size_t>(l.c), x.device());
  auto partial = allocate(sizeof(SumPair) * static_cast<size_t>(l.c * l.splits), x.device());
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    SumPair* pp = static_cast<SumPair*>(partial->data.get());
    double* pc = static_cast<double*>(coeff->data.get());
    bn_grad_stats_kernel<T><<<dim3(static_cast<unsigned>(l.splits), static_cast<unsigned>(l.c)), threads_per_block, 0,
                              stream_>>>(l, ptr<T>(x), ptr<T>(gy), ptr<T>(save_mean), ptr<T>(save_invstd), pp);
    check_launch("bn_grad_stats");
    bn_grad_finish_kernel<T><<<blocks_for(l.c), threads_per_block, 0, stream_>>>(
        l, pp, ptr<T>(gamma), ptr<T>(save_invstd), ptr<T>(gamma_grad), ptr<T>(beta_grad), pc);
    check_launch("bn_grad_finish");
    bn_grad_apply_kernel<T><<<plane_grid(l.n * l.c, l.inner), threads_per_block, 0, stream_>>>(
        l.c, l.inner, ptr<T>(x), ptr<T>(gy), ptr<T>(save_mean), ptr<T>(save_invstd), pc, ptr<T>(gx));
    check_launch("bn_grad_apply");
  });
}

void CudaBackend::softmax_forward(bool log, const Tensor& x, Tensor& y) {
  const OpTimer timer(*this, "softmax_forward");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / std::max<int64_t>(n * c, 1);
    softmax_kernel<T><<<blocks_for(n * inner), threads_per_block, 0, stream_>>>(log, ptr<T>(x), ptr<T>(y), n, c, inner);
  });
  check_launch("softmax");
}

void CudaBackend::softmax_backward(bool log, const Tensor& y, const Tensor& gy, Tensor& gx) {
  const OpTimer timer(*this, "softmax_backward");
  dispatch_float(y.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = y.size(0), c = y.size(1), inner = y.numel() / std::max<int64_t>(n * c, 1);
    softmax_backward_kernel<T><<<blocks_for(n * inner), threads_per_block, 0, stream_>>>(log, ptr<T>(y), ptr<T>(gy),
                                                                                         ptr<T>(gx), n, c, inner);
  });
  check_launch("softmax_backward");
}

}  // namespace uniem::cuda
