// Pooling (max with argmax indices, average) over (D, H, W) windows, and 2-D nearest / bilinear
// upsampling. Parallel over (n, c) planes, so every backward scatter stays inside one thread.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/threads.h"

namespace uniem {
namespace {

using kernel::pool_geometry;
using kernel::PoolGeometry;

template <typename T>
void pool_forward_typed(PoolMode mode, const PoolGeometry& g, const T* x, T* y, int32_t* idx) {
  const int64_t in_plane = g.d * g.h * g.w, out_plane = g.od * g.oh * g.ow;
  const double window = static_cast<double>(g.kd * g.kh * g.kw);
  parallel_for(0, g.planes, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const T* xp = x + q * in_plane;
      T* yp = y + q * out_plane;
      int32_t* ip = idx ? idx + q * out_plane : nullptr;
      for (int64_t a = 0; a < g.od; ++a)
        for (int64_t b = 0; b < g.oh; ++b)
          for (int64_t c = 0; c < g.ow; ++c) {
            const int64_t d0 = a * g.sd - g.pd, h0 = b * g.sh - g.ph, w0 = c * g.sw - g.pw;
            T best = -std::numeric_limits<T>::infinity();
            int64_t best_i = -1;
            double sum = 0;
            for (int64_t i = std::max<int64_t>(d0, 0); i < std::min(d0 + g.kd, g.d); ++i)
              for (int64_t j = std::max<int64_t>(h0, 0); j < std::min(h0 + g.kh, g.h); ++j)
                for (int64_t k = std::max<int64_t>(w0, 0); k < std::min(w0 + g.kw, g.w); ++k) {
                  const int64_t at = (i * g.h + j) * g.w + k;
                  const T v = xp[at];
                  if (mode == PoolMode::max) {
                    if (v > best || best_i < 0 || std::isnan(v)) {
                      best = v;
                      best_i = at;
                    }
                  } else {
                    sum += static_cast<double>(v);
                  }
                }
            const int64_t o = (a * g.oh + b) * g.ow + c;
            if (mode == PoolMode::max) {
              yp[o] = best;
              ip[o] = static_cast<int32_t>(best_i);
            } else {
              yp[o] = static_cast<T>(sum / window);
            }
          }
    }
  });
}

template <typename T>
void pool_backward_typed(PoolMode mode, const PoolGeometry& g, const T* gy, const int32_t* idx, T* gx) {
  const int64_t in_plane = g.d * g.h * g.w, out_plane = g.od * g.oh * g.ow;
  const T inv_window = static_cast<T>(1.0 / static_cast<double>(g.kd * g.kh * g.kw));
  parallel_for(0, g.planes, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      T* gp = gx + q * in_plane;
      const T* gyp = gy + q * out_plane;
      std::fill(gp, gp + in_plane, T(0));
      if (mode == PoolMode::max) {
        const int32_t* ip = idx + q * out_plane;
        for (int64_t o = 0; o < out_plane; ++o)
          if (ip[o] >= 0) gp[ip[o]] += gyp[o];
        continue;
      }
      for (int64_t a = 0; a < g.od; ++a)
        for (int64_t b = 0; b < g.oh; ++b)
          for (int64_t c = 0; c < g.ow; ++c) {
            const int64_t d0 = a * g.sd - g.pd, h0 = b * g.sh - g.ph, w0 = c * g.sw - g.pw;
            const T v = gyp[(a * g.oh + b) * g.ow + c] * inv_window;
            for (int64_t i = std::max<int64_t>(d0, 0); i < std::min(d0 + g.kd, g.d); ++i)
              for (int64_t j = std::max<int64_t>(h0, 0); j < std::min(h0 + g.kh, g.h); ++j)
                for (int64_t k = std::max<int64_t>(w0, 0); k < std::min(w0 + g.kw, g.w); ++k)
                  gp[(i * g.h + j) * g.w + k] += v;
          }
    }
  });
}

// Source coordinate of output index o for a resize from n_in to n_out (align_corners = false):
// the two neighbours and the weight of the upper one.
struct Tap {
  int64_t lo, hi;
  double frac;
};
Tap bilinear_tap(int64_t o, int64_t n_in, int64_t n_out) {
  const double scale = static_cast<double>(n_in) / static_cast<double>(n_out);
  const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * scale - 0.5);
  const int64_t lo = std::min(static_cast<int64_t>(src), n_in - 1);
  return {lo, std::min(lo + 1, n_in - 1), src - static_cast<double>(lo)};
}
int64_t nearest_tap(int64_t o, int64_t n_in, int64_t n_out) {
  return std::min(n_in - 1, o * n_in / n_out);
}

// forward: y from x; backward: gx += scattered gy. One template, the direction chosen at compile time.
template <typename T, bool Backward>
void upsample_typed(UpsampleMode mode, const Shape& xs, const Shape& ys, const T* src, T* dst) {
  const int64_t planes = xs[0] * xs[1], h = xs[2], w = xs[3], oh = ys[2], ow = ys[3];
  std::vector<Tap> rows(static_cast<size_t>(oh)), cols(static_cast<size_t>(ow));
  for (int64_t i = 0; i < oh; ++i)
    rows[static_cast<size_t>(i)] = mode == UpsampleMode::bilinear ? bilinear_tap(i, h, oh)
                                                                  : Tap{nearest_tap(i, h, oh), 0, 0.0};
  for (int64_t j = 0; j < ow; ++j)
    cols[static_cast<size_t>(j)] = mode == UpsampleMode::bilinear ? bilinear_tap(j, w, ow)
                                                                  : Tap{nearest_tap(j, w, ow), 0, 0.0};
  parallel_for(0, planes, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      if constexpr (Backward) std::fill(dst + q * h * w, dst + (q + 1) * h * w, T(0));
      for (int64_t i = 0; i < oh; ++i) {
        const Tap& r = rows[static_cast<size_t>(i)];
        for (int64_t j = 0; j < ow; ++j) {
          const Tap& c = cols[static_cast<size_t>(j)];
          const int64_t o = (q * oh + i) * ow + j;
          const int64_t base = q * h * w;
          if (mode == UpsampleMode::nearest) {
            if constexpr (Backward) dst[base + r.lo * w + c.lo] += src[o];
            else dst[o] = src[base + r.lo * w + c.lo];
            continue;
          }
          const T fy = static_cast<T>(r.frac), fx = static_cast<T>(c.frac);
          const T w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
          const int64_t i00 = base + r.lo * w + c.lo, i01 = base + r.lo * w + c.hi;
          const int64_t i10 = base + r.hi * w + c.lo, i11 = base + r.hi * w + c.hi;
          if constexpr (Backward) {
            dst[i00] += w00 * src[o];
            dst[i01] += w01 * src[o];
            dst[i10] += w10 * src[o];
            dst[i11] += w11 * src[o];
          } else {
            dst[o] = w00 * src[i00] + w01 * src[i01] + w10 * src[i10] + w11 * src[i11];
          }
        }
      }
    }
  });
}

}  // namespace

void CpuBackend::pool_forward(PoolMode mode, const PoolParams& p, const Tensor& x, Tensor& y, Tensor& indices) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    pool_forward_typed<T>(mode, pool_geometry(p, x.shape(), y.shape()), x.data<T>(), y.data<T>(),
                          mode == PoolMode::max ? indices.data<int32_t>() : nullptr);
  });
}

void CpuBackend::pool_backward(PoolMode mode, const PoolParams& p, const Tensor& gy, const Tensor& indices,
                               Tensor& gx) {
  cpu::dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    pool_backward_typed<T>(mode, pool_geometry(p, gx.shape(), gy.shape()), gy.data<T>(),
                           mode == PoolMode::max ? indices.data<int32_t>() : nullptr, gx.data<T>());
  });
}

void CpuBackend::upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    upsample_typed<T, false>(mode, x.shape(), y.shape(), x.data<T>(), y.data<T>());
  });
}

void CpuBackend::upsample_backward(UpsampleMode mode, const Tensor& gy, Tensor& gx) {
  cpu::dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    upsample_typed<T, true>(mode, gx.shape(), gy.shape(), gy.data<T>(), gx.data<T>());
  });
}

}  // namespace uniem
