// Pooling (max with argmax indices, average, padding counted as in PyTorch) over (D, H, W) windows
// and 2-D nearest / bilinear upsampling, on the GPU. Our own kernels rather than cuDNN's pooling,
// because the backend interface hands the argmax indices to the backward pass.
//
// The backward passes gather instead of scatter: each input element sums the output gradients of
// the windows (or upsampling taps) that read it, in output order, so there are no atomics and the
// sums are the same in every run and the same as the CPU's order.
#include <algorithm>
#include <cmath>

#include "cuda/cuda_backend.h"

namespace uniem::cuda {
namespace {

template <typename T>
__global__ void pool_forward_kernel(bool max_mode, PoolGeometry g, const T* x, T* y, int32_t* idx) {
  const int64_t out_plane = g.od * g.oh * g.ow, n = g.planes * out_plane;
  const double window = static_cast<double>(g.kd * g.kh * g.kw);
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < n; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = o / out_plane, r = o % out_plane;
    const int64_t a = r / (g.oh * g.ow), b = (r / g.ow) % g.oh, c = r % g.ow;
    const T* xp = x + q * g.d * g.h * g.w;
    const int64_t d0 = a * g.sd - g.pd, h0 = b * g.sh - g.ph, w0 = c * g.sw - g.pw;
    T best = -INFINITY;
    int64_t best_i = -1;
    double sum = 0;
    for (int64_t i = max(d0, int64_t{0}); i < min(d0 + g.kd, g.d); ++i)
      for (int64_t j = max(h0, int64_t{0}); j < min(h0 + g.kh, g.h); ++j)
        for (int64_t k = max(w0, int64_t{0}); k < min(w0 + g.kw, g.w); ++k) {
          const int64_t at = (i * g.h + j) * g.w + k;
          const T v = xp[at];
          if (max_mode) {
            if (v > best || best_i < 0 || isnan(v)) {
              best = v;
              best_i = at;
            }
          } else {
            sum += static_cast<double>(v);
          }
        }
    if (max_mode) {
      y[o] = best;
      idx[o] = static_cast<int32_t>(best_i);
    } else {
      y[o] = static_cast<T>(sum / window);
    }
  }
}

// The outputs along one axis whose window covers input position i: [first, last].
__device__ inline void covering(int64_t i, int64_t pad, int64_t kernel, int64_t stride, int64_t n_out, int64_t& first,
                                int64_t& last) {
  const int64_t lo = i + pad - kernel + 1;  // first window start that reaches i
  first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  last = min((i + pad) / stride, n_out - 1);
}

template <typename T>
__global__ void pool_backward_kernel(bool max_mode, PoolGeometry g, const T* gy, const int32_t* idx, T* gx) {
  const int64_t in_plane = g.d * g.h * g.w, out_plane = g.od * g.oh * g.ow, n = g.planes * in_plane;
  const T inv_window = static_cast<T>(1.0 / static_cast<double>(g.kd * g.kh * g.kw));
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = e / in_plane, at = e % in_plane;
    const int64_t i = at / (g.h * g.w), j = (at / g.w) % g.h, k = at % g.w;
    int64_t a0, a1, b0, b1, c0, c1;
    covering(i, g.pd, g.kd, g.sd, g.od, a0, a1);
    covering(j, g.ph, g.kh, g.sh, g.oh, b0, b1);
    covering(k, g.pw, g.kw, g.sw, g.ow, c0, c1);
    const T* gyp = gy + q * out_plane;
    const int32_t* ip = max_mode ? idx + q * out_plane : nullptr;
    T acc = 0;
    for (int64_t a = a0; a <= a1; ++a)
      for (int64_t b = b0; b <= b1; ++b)
        for (int64_t c = c0; c <= c1; ++c) {
          const int64_t o = (a * g.oh + b) * g.ow + c;
          if (max_mode) {
            if (ip[o] == at) acc += gyp[o];
          } else {
            acc += gyp[o] * inv_window;
          }
        }
    gx[e] = acc;
  }
}

// Source taps of output index o for a resize from n_in to n_out (align_corners = false), exactly
// the CPU backend's arithmetic.
struct Tap {
  int64_t lo, hi;
  double frac;
};
__host__ __device__ inline Tap tap(bool bilinear, int64_t o, int64_t n_in, int64_t n_out) {
  if (!bilinear) {
    const int64_t lo = o * n_in / n_out < n_in - 1 ? o * n_in / n_out : n_in - 1;
    return {lo, lo, 0.0};
  }
  const double scale = static_cast<double>(n_in) / static_cast<double>(n_out);
  double src = (static_cast<double>(o) + 0.5) * scale - 0.5;
  if (src < 0) src = 0;
  int64_t lo = static_cast<int64_t>(src);
  if (lo > n_in - 1) lo = n_in - 1;
  const int64_t hi = lo + 1 < n_in - 1 ? lo + 1 : n_in - 1;
  return {lo, hi, src - static_cast<double>(lo)};
}

// The weight with which output o reads input i along one axis.
__device__ inline double tap_weight(bool bilinear, int64_t o, int64_t i, int64_t n_in, int64_t n_out) {
  const Tap t = tap(bilinear, o, n_in, n_out);
  if (!bilinear) return t.lo == i ? 1.0 : 0.0;
  return (t.lo == i ? 1.0 - t.frac : 0.0) + (t.hi == i ? t.frac : 0.0);
}

template <typename T>
__global__ void upsample_forward_kernel(bool bilinear, const T* x, T* y, int64_t planes, int64_t h, int64_t w,
                                        int64_t oh, int64_t ow) {
  const int64_t n = planes * oh * ow;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < n; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = o / (oh * ow), i = (o / ow) % oh, j = o % ow;
    const Tap r = tap(bilinear, i, h, oh), c = tap(bilinear, j, w, ow);
    const T* base = x + q * h * w;
    if (!bilinear) {
      y[o] = base[r.lo * w + c.lo];
      continue;
    }
    const T fy = static_cast<T>(r.frac), fx = static_cast<T>(c.frac);
    const T w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
    y[o] = w00 * base[r.lo * w + c.lo] + w01 * base[r.lo * w + c.hi] + w10 * base[r.hi * w + c.lo] +
           w11 * base[r.hi * w + c.hi];
  }
}

// Per input row (or column) i, the output rows [first[i], last[i]] whose taps read it (host).
void reading_ranges(bool bilinear, int64_t n_in, int64_t n_out, std::vector<int32_t>& ranges) {
  ranges.assign(static_cast<size_t>(2 * n_in), -1);
  for (int64_t o = 0; o < n_out; ++o) {
    const Tap t = tap(bilinear, o, n_in, n_out);
    for (int64_t i : {t.lo, t.hi}) {
      int32_t* r = &ranges[static_cast<size_t>(2 * i)];
      if (r[0] < 0) r[0] = static_cast<int32_t>(o);
      r[1] = static_cast<int32_t>(o);
    }
  }
}

template <typename T>
__global__ void upsample_backward_kernel(bool bilinear, const T* gy, T* gx, int64_t planes, int64_t h, int64_t w,
                                         int64_t oh, int64_t ow, const int32_t* rows, const int32_t* cols) {
  const int64_t n = planes * h * w;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t q = e / (h * w), i = (e / w) % h, j = e % w;
    T acc = 0;
    if (rows[2 * i] >= 0 && cols[2 * j] >= 0) {
      for (int64_t o = rows[2 * i]; o <= rows[2 * i + 1]; ++o) {
        const T wr = static_cast<T>(tap_weight(bilinear, o, i, h, oh));
        if (wr == T(0)) continue;
        for (int64_t p = cols[2 * j]; p <= cols[2 * j + 1]; ++p) {
          const T wc = static_cast<T>(tap_weight(bilinear, p, j, w, ow));
          acc += wr * wc * gy[(q * oh + o) * ow + p];
        }
      }
    }
    gx[e] = acc;
  }
}

}  // namespace

void CudaBackend::pool_forward(PoolMode mode, const PoolParams& p, const Tensor& x, Tensor& y, Tensor& indices) {
  const OpTimer timer(*this, "pool_forward");
  const PoolGeometry g = pool_geometry(p, x.shape(), y.shape());
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    pool_forward_kernel<T><<<blocks_for(y.numel()), threads_per_block, 0, stream_>>>(
        mode == PoolMode::max, g, ptr<T>(x), ptr<T>(y), mode == PoolMode::max ? ptr<int32_t>(indices) : nullptr);
  });
  check_launch("pool_forward");
}

void CudaBackend::pool_backward(PoolMode mode, const PoolParams& p, const Tensor& gy, const Tensor& indices,
                                Tensor& gx) {
  const OpTimer timer(*this, "pool_backward");
  const PoolGeometry g = pool_geometry(p, gx.shape(), gy.shape());
  dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    pool_backward_kernel<T><<<blocks_for(gx.numel()), threads_per_block, 0, stream_>>>(
        mode == PoolMode::max, g, ptr<T>(gy), mode == PoolMode::max ? ptr<int32_t>(indices) : nullptr, ptr<T>(gx));
  });
  check_launch("pool_backward");
}

void CudaBackend::upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y) {
  const OpTimer timer(*this, "upsample_forward");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    upsample_forward_kernel<T><<<blocks_for(y.numel()), threads_per_block, 0, stream_>>>(
        mode == UpsampleMode::bilinear, ptr<T>(x), ptr<T>(y), x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2),
        y.size(3));
  });
  check_launch("upsample_forward");
}

void CudaBackend::upsample_backward(UpsampleMode mode, const Tensor& gy, Tensor& gx) {
  const OpTimer timer(*this, "upsample_backward");
  const bool bilinear = mode == UpsampleMode::bilinear;
  const int64_t h = gx.size(2), w = gx.size(3), oh = gy.size(2), ow = gy.size(3);
  std::vector<int32_t> rows, cols;
  reading_ranges(bilinear, h, oh, rows);
  reading_ranges(bilinear, w, ow, cols);
  auto row_table = upload(rows.data(), rows.size() * sizeof(int32_t));
  auto col_table = upload(cols.data(), cols.size() * sizeof(int32_t));
  dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    upsample_backward_kernel<T><<<blocks_for(gx.numel()), threads_per_block, 0, stream_>>>(
        bilinear, ptr<T>(gy), ptr<T>(gx), gx.size(0) * gx.size(1), h, w, oh, ow,
        static_cast<const int32_t*>(row_table->data.get()), static_cast<const int32_t*>(col_table->data.get()));
  });
  check_launch("upsample_backward");
}

}  // namespace uniem::cuda
