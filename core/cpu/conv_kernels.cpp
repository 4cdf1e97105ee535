// Convolution on the CPU. Float convolutions of stride 1 (all of the FFN's and the 2-D networks'
// 3x3 layers, and the backward-data pass of each, see backward_data_as_forward) run Winograd's
// minimal filtering (conv_winograd.h) when the kernel is 3x3 or 3x3x3 without dilation and both
// sides have 8 or more channels, the direct kernels of conv_direct.h otherwise (the first layer
// of a network, other kernel sizes, dilation). Everything else (double precision, strides, 1x1)
// runs im2col + Eigen GEMM (Chellapilla et al. 2006, "High performance convolutional neural
// networks for document processing"), described below.
//
// For one sample, y (Cout x P) = w (Cout x K) * col (K x P), K = Cin*kD*kH*kW, P = Do*Ho*Wo, where
// column p of `col` holds the input values under the kernel at output position p (zeros in the
// padding). The P columns are cut into chunks of whole output rows (or planes, for 3-D) sized so
// that a chunk's col block stays in cache (~2 MiB); chunks run in parallel, each doing its own
// im2col and a single-threaded GEMM.
//
// Backward data: dcol = w^T * dy per chunk, then col2im adds dcol into dx. A chunk's input footprint
// overlaps only its neighbours' (chunks are at least (k-1)*dilation/stride rows long), so even
// chunks run in parallel, then odd ones: no races, and every dx element sums its terms in the same
// order whatever the thread count.
// Backward filter: dw = sum over chunks of dy_chunk * col_chunk^T, accumulated in 16 fixed groups
// of consecutive chunks, the groups then added in order.
//
// This file is compiled twice: for the baseline target (namespace cpu::baseline) and, on x86-64,
// for AVX-512 (namespace cpu::avx512, see core/CMakeLists.txt); core/cpu/conv.cpp picks one at run
// time. Eigen's GEMM with 512-bit registers measured 61 against 37 GFLOP/s for AVX2 on one core of
// the Xeon this was written on (sgemm 2048^3).
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/cpu/conv_kernels.h"
#include "core/cpu/conv_direct.h"
#include "core/cpu/conv_winograd.h"
#include "core/threads.h"

namespace uniem::cpu::UNIEM_CONV_ISA {
namespace {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

constexpr size_t chunk_bytes = 2 << 20;

struct Geometry {
  int64_t n, ci, d, h, w;        // input
  int64_t co, kd, kh, kw;        // filter
  int64_t od, oh, ow;            // output
  int64_t sd, sh, sw, pd, ph, pw, dd, dh, dw;
  int64_t k() const { return ci * kd * kh * kw; }
  int64_t p() const { return od * oh * ow; }
  bool pointwise() const {  // 1x1x1, stride 1, no padding: col is the input itself
    return kd == 1 && kh == 1 && kw == 1 && sd == 1 && sh == 1 && sw == 1 && pd == 0 && ph == 0 && pw == 0;
  }
};

Geometry geometry(const ConvParams& p, const Shape& x, const Shape& w, const Shape& y) {
  return {x[0], x[1], x[2], x[3], x[4], w[0], w[2], w[3], w[4], y[2], y[3], y[4],
          p.stride[0], p.stride[1], p.stride[2], p.padding[0], p.padding[1], p.padding[2],
          p.dilation[0], p.dilation[1], p.dilation[2]};
}

// Chunks of whole output rows (od, oh), or whole planes for 3-D outputs, in column units. With
// `rows`, whole rows also in 3-D (for the forward pass and the filter gradient, where chunks need
// not avoid sharing input): a 33^3 FFN plane is 1089 columns, too many for the GEMM's cache
// blocking (rows took the isotropic FFN forward from 0.69 to 0.96 moves/s on 2 threads).
struct Chunks {
  int64_t columns;  // per chunk (the last may be shorter)
  int64_t count;
  int64_t total;
  int64_t begin(int64_t c) const { return c * columns; }
  int64_t end(int64_t c) const { return std::min(total, (c + 1) * columns); }
};

Chunks make_chunks(const Geometry& g, size_t elem, bool rows = false) {
  const bool by_plane = g.od > 1 && !rows;
  const int64_t unit = by_plane ? g.oh * g.ow : g.ow;  // columns per row or plane
  const int64_t units = by_plane ? g.od : rows ? g.od * g.oh : g.oh;
  // Minimum length so that only neighbouring chunks share input (see the header).
  const int64_t k = by_plane ? g.kd : g.kh, s = by_plane ? g.sd : g.sh, dil = by_plane ? g.dd : g.dh;
  const int64_t min_units = rows ? 1 : std::max<int64_t>(1, ((k - 1) * dil + s - 1) / s);
  const int64_t want = static_cast<int64_t>(chunk_bytes / (elem * static_cast<size_t>(std::max<int64_t>(g.k(), 1))));
  int64_t per = std::clamp<int64_t>(want / unit, min_units, units);
  // At least eight chunks per sample where the sample allows, so that backward data, which runs
  // half the chunks at a time, still has work for several threads.
  per = std::min(per, std::max(min_units, units / 8));
  Chunks c;
  c.columns = per * unit;
  c.total = g.p();
  c.count = (c.total + c.columns - 1) / c.columns;
  return c;
}

// The one walk im2col and col2im share: for every kernel tap r (row r of col, taps in
// (Cin, kD, kH, kW) order) and every run of output columns of [p0, p1) along W, calls
// fn(r, column offset, input row offset or -1 when the row lies in the padding, iw0, run length),
// where input column iw0 + j * stride_w is read for output column offset + j.
template <typename Fn>
void for_each_tap_run(const Geometry& g, int64_t p0, int64_t p1, Fn&& fn) {
  int64_t r = 0;
  for (int64_t c = 0; c < g.ci; ++c)
    for (int64_t a = 0; a < g.kd; ++a)
      for (int64_t b = 0; b < g.kh; ++b)
        for (int64_t e = 0; e < g.kw; ++e, ++r) {
          int64_t ow = p0 % g.ow, oh = (p0 / g.ow) % g.oh, od = p0 / (g.ow * g.oh);
          for (int64_t p = p0; p < p1;) {
            const int64_t run = std::min(g.ow - ow, p1 - p);
            const int64_t id = od * g.sd - g.pd + a * g.dd, ih = oh * g.sh - g.ph + b * g.dh;
            const bool inside = id >= 0 && id < g.d && ih >= 0 && ih < g.h;
            fn(r, p - p0, inside ? ((c * g.d + id) * g.h + ih) * g.w : int64_t{-1}, ow * g.sw - g.pw + e * g.dw, run);
            p += run;
            ow = 0;
            if (++oh == g.oh) {
              oh = 0;
              ++od;
            }
          }
        }
}

// For stride 1: the part [lo, hi) of a run of `run` columns starting at input column iw0 that
// lies inside the row of width w.
inline std::pair<int64_t, int64_t> inside_span(int64_t iw0, int64_t run, int64_t w) {
  const int64_t lo = std::clamp<int64_t>(-iw0, 0, run);
  return {lo, std::clamp<int64_t>(w - iw0, lo, run)};
}

// col (K x cols, row-major) = the input values under each kernel tap for output columns [p0, p1).
template <typename T>
void im2col(const Geometry& g, const T* x, int64_t p0, int64_t p1, T* col) {
  const int64_t cols = p1 - p0;
  for_each_tap_run(g, p0, p1, [&](int64_t r, int64_t off, int64_t row_at, int64_t iw0, int64_t run) {
    T* out = col + r * cols + off;
    if (row_at < 0) {
      std::fill(out, out + run, T(0));
      return;
    }
    const T* row = x + row_at;
    if (g.sw == 1) {
      const auto [lo, hi] = inside_span(iw0, run, g.w);
      std::fill(out, out + lo, T(0));
      std::memcpy(out + lo, row + iw0 + lo, static_cast<size_t>(hi - lo) * sizeof(T));
      std::fill(out + hi, out + run, T(0));
      return;
    }
    for (int64_t j = 0; j < run; ++j) {
      const int64_t iw = iw0 + j * g.sw;
      out[j] = (iw >= 0 && iw < g.w) ? row[iw] : T(0);
    }
  });
}

// dx += the columns of dcol scattered back to the input positions im2col read them from.
template <typename T>
void col2im(const Geometry& g, const T* col, int64_t p0, int64_t p1, T* dx) {
  const int64_t cols = p1 - p0;
  for_each_tap_run(g, p0, p1, [&](int64_t r, int64_t off, int64_t row_at, int64_t iw0, int64_t run) {
    if (row_at < 0) return;
    const T* in = col + r * cols + off;
    T* row = dx + row_at;
    if (g.sw == 1) {
      const auto [lo, hi] = inside_span(iw0, run, g.w);
      for (int64_t j = lo; j < hi; ++j) row[iw0 + j] += in[j];
      return;
    }
    for (int64_t j = 0; j < run; ++j) {
      const int64_t iw = iw0 + j * g.sw;
      if (iw >= 0 && iw < g.w) row[iw] += in[j];
    }
  });
}

// One scratch buffer per thread, grown on demand and reused across calls.
template <typename T>
T* scratch(size_t elements) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < elements) buffer.resize(elements);
  return buffer.data();
}

#if defined(UNIEM_HAVE_DIRECT_CONV)
// Float convolutions of stride 1 that are not pointwise go to the Winograd or direct kernels
// where this instruction set has them: the shape they take, or nothing.
std::optional<direct::Shape> direct_shape(const Geometry& g) {
  if (g.sd != 1 || g.sh != 1 || g.sw != 1 || g.pointwise()) return std::nullopt;
  const direct::Shape s{g.n, g.ci, g.d, g.h, g.w, g.co, g.kd, g.kh, g.kw, g.pd, g.ph, g.pw, g.dd, g.dh, g.dw};
  if (s.od() != g.od || s.oh() != g.oh || s.ow() != g.ow) return std::nullopt;
  return s;
}
#endif

template <typename T>
void forward(const Geometry& g, const T* x, const T* w, const T* bias, T* y) {
#if defined(UNIEM_HAVE_DIRECT_CONV)
  if constexpr (std::is_same_v<T, float>)
    if (const auto s = direct_shape(g)) {
      if (winograd::applies(*s)) return winograd::forward(*s, x, w, bias, y);
      return direct::forward(*s, x, w, bias, y);
    }
#endif
  const int64_t k = g.k(), p = g.p(), in_sample = g.ci * g.d * g.h * g.w, out_sample = g.co * p;
  const Chunks chunks = make_chunks(g, sizeof(T), true);
  ConstMatrixMap<T> wm(w, g.co, k, Eigen::OuterStride<>(k));
  parallel_for(0, g.n * chunks.count, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / chunks.count, c = t % chunks.count;
      const int64_t p0 = chunks.begin(c), p1 = chunks.end(c), cols = p1 - p0;
      const T* xs = x + n * in_sample;
      MatrixMap<T> ym(y + n * out_sample + p0, g.co, cols, Eigen::OuterStride<>(p));
      if (g.pointwise()) {
        ym.noalias() = wm * ConstMatrixMap<T>(xs + p0, k, cols, Eigen::OuterStride<>(p));
      } else {
        T* col = scratch<T>(static_cast<size_t>(k * cols));
        im2col(g, xs, p0, p1, col);
        ym.noalias() = wm * ConstMatrixMap<T>(col, k, cols, Eigen::OuterStride<>(cols));
      }
      if (bias)
        for (int64_t o = 0; o < g.co; ++o) ym.row(o).array() += bias[o];
    }
  });
}

// With stride 1, dx is itself a convolution: of dy, padded by dilation * (k - 1) - padding, with
// the kernel flipped in space and its channel axes swapped. Its GEMM has the long inner dimension
// Cout*k^3 instead of Cout, and no col2im or zeroing is needed. Measured on 2 threads (Xeon,
// AVX-512): conv2d 3x3 64->64 256^2 forward+backward 0.22 s -> 0.20 s.
template <typename T>
bool backward_data_as_forward(const Geometry& g, const T* gy, const T* w, T* gx) {
  if (g.sd != 1 || g.sh != 1 || g.sw != 1) return false;
  const int64_t qd = g.dd * (g.kd - 1) - g.pd, qh = g.dh * (g.kh - 1) - g.ph, qw = g.dw * (g.kw - 1) - g.pw;
  if (qd < 0 || qh < 0 || qw < 0) return false;
  const int64_t taps = g.kd * g.kh * g.kw;
  std::vector<T> flipped(static_cast<size_t>(g.co * g.ci * taps));
  for (int64_t o = 0; o < g.co; ++o)
    for (int64_t i = 0; i < g.ci; ++i)
      for (int64_t t = 0; t < taps; ++t)
        flipped[static_cast<size_t>((i * g.co + o) * taps + (taps - 1 - t))] = w[(o * g.ci + i) * taps + t];
  const Geometry adjoint{g.n, g.co, g.od, g.oh, g.ow, g.ci, g.kd, g.kh, g.kw, g.d, g.h, g.w,
                         1, 1, 1, qd, qh, qw, g.dd, g.dh, g.dw};
  forward(adjoint, gy, flipped.data(), static_cast<const T*>(nullptr), gx);
  return true;
}

template <typename T>
void backward_data(const Geometry& g, const T* gy, const T* w, T* gx) {
  if (backward_data_as_forward(g, gy, w, gx)) return;
  const int64_t k = g.k(), p = g.p(), in_sample = g.ci * g.d * g.h * g.w, out_sample = g.co * p;
  const Chunks chunks = make_chunks(g, sizeof(T));
  ConstMatrixMap<T> wm(w, g.co, k, Eigen::OuterStride<>(k));
  std::fill(gx, gx + g.n * in_sample, T(0));
  for (int64_t parity = 0; parity < 2; ++parity) {
    const int64_t per_sample = (chunks.count - parity + 1) / 2;
    parallel_for(0, g.n * per_sample, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / per_sample, c = 2 * (t % per_sample) + parity;
        const int64_t p0 = chunks.begin(c), p1 = chunks.end(c), cols = p1 - p0;
        ConstMatrixMap<T> gym(gy + n * out_sample + p0, g.co, cols, Eigen::OuterStride<>(p));
        T* xs = gx + n * in_sample;
        if (g.pointwise()) {
          MatrixMap<T> gxm(xs + p0, k, cols, Eigen::OuterStride<>(p));
          gxm.noalias() = wm.transpose() * gym;
        } else {
          T* col = scratch<T>(static_cast<size_t>(k * cols));
          MatrixMap<T>(col, k, cols, Eigen::OuterStride<>(cols)).noalias() = wm.transpose() * gym;
          col2im(g, col, p0, p1, xs);
        }
      }
    });
  }
}

template <typename T>
void backward_filter(const Geometry& g, const T* x, const T* gy, T* gw, T* gb) {
#if defined(UNIEM_HAVE_DIRECT_CONV)
  if constexpr (std::is_same_v<T, float>)
    if (const auto s = direct_shape(g)) {
      if (winograd::applies(*s)) return winograd::backward_filter(*s, x, gy, gw, gb);
      return direct::backward_filter(*s, x, gy, gw, gb);
    }
#endif
  const int64_t k = g.k(), p = g.p(), in_sample = g.ci * g.d * g.h * g.w, out_sample = g.co * p;
  const Chunks chunks = make_chunks(g, sizeof(T), true);
  const int64_t tasks = g.n * chunks.count;
  // Tasks fall into a fixed number of groups (independent of the thread count); each group adds
  // its tasks' products in order into its own partial, and the partials are added in group order.
  const int64_t groups = std::min<int64_t>(tasks, 16);
  const int64_t total = g.co * k;
  std::vector<T> partial(static_cast<size_t>(groups * total));
  std::vector<double> bias_partial(static_cast<size_t>(groups * g.co), 0.0);
  parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t group = g0; group < g1; ++group) {
      MatrixMap<T> pm(partial.data() + group * total, g.co, k, Eigen::OuterStride<>(k));
      for (int64_t t = tasks * group / groups; t < tasks * (group + 1) / groups; ++t) {
        const bool first = t == tasks * group / groups;
        const int64_t n = t / chunks.count, c = t % chunks.count;
        const int64_t p0 = chunks.begin(c), p1 = chunks.end(c), cols = p1 - p0;
        ConstMatrixMap<T> gym(gy + n * out_sample + p0, g.co, cols, Eigen::OuterStride<>(p));
        const T* xs = x + n * in_sample;
        const T* col = xs + p0;
        int64_t col_stride = p;
        if (!g.pointwise()) {
          T* buffer = scratch<T>(static_cast<size_t>(k * cols));
          im2col(g, xs, p0, p1, buffer);
          col = buffer;
          col_stride = cols;
        }
        ConstMatrixMap<T> cm(col, k, cols, Eigen::OuterStride<>(col_stride));
        if (first) pm.noalias() = gym * cm.transpose();
        else pm.noalias() += gym * cm.transpose();
        if (gb)
          for (int64_t o = 0; o < g.co; ++o)
            bias_partial[static_cast<size_t>(group * g.co + o)] += static_cast<double>(gym.row(o).sum());
      }
    }
  });
  add_group_partials(partial.data(), groups, total, gw);
  if (gb)
    for (int64_t o = 0; o < g.co; ++o) {
      double acc = 0;
      for (int64_t group = 0; group < groups; ++group) acc += bias_partial[static_cast<size_t>(group * g.co + o)];
      gb[o] = static_cast<T>(acc);
    }
}

}  // namespace

void conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    forward<T>(geometry(p, x.shape(), w.shape(), y.shape()), x.data<T>(), w.data<T>(),
               b.defined() ? b.data<T>() : nullptr, y.data<T>());
  });
}

void conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx) {
  dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    backward_data<T>(geometry(p, gx.shape(), w.shape(), gy.shape()), gy.data<T>(), w.data<T>(), gx.data<T>());
  });
}

void conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw,
                                      Tensor& gb) {
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    backward_filter<T>(geometry(p, x.shape(), gw.shape(), gy.shape()), x.data<T>(), gy.data<T>(), gw.data<T>(),
                       gb.defined() ? gb.data<T>() : nullptr);
  });
}

}  // namespace uniem::cpu::UNIEM_CONV_ISA
