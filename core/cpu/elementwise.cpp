// Element-wise kernels: unary ops and their derivatives, broadcasting binary ops, reductions to a
// broadcast shape, and windowed copies (crop, pad, concatenation and slicing are built on these).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/threads.h"

namespace uniem {
namespace {

constexpr int64_t elementwise_grain = 1 << 14;

// Dimensions padded with leading 1s to rank 5.
std::array<int64_t, 5> dims5(const Shape& s) {
  std::array<int64_t, 5> d{1, 1, 1, 1, 1};
  for (int i = 0; i < s.rank(); ++i) d[static_cast<size_t>(5 - s.rank() + i)] = s[i];
  return d;
}

// Row-major strides of `d`, with 0 where the dimension is broadcast (size 1 against a larger out).
std::array<int64_t, 5> broadcast_strides(const std::array<int64_t, 5>& d, const std::array<int64_t, 5>& out) {
  std::array<int64_t, 5> s{};
  int64_t stride = 1;
  for (int i = 4; i >= 0; --i) {
    const size_t k = static_cast<size_t>(i);
    s[k] = (d[k] == 1 && out[k] != 1) ? 0 : stride;
    stride *= d[k];
  }
  return s;
}

using kernel::binary_value;
using kernel::unary_derivative;
using kernel::unary_value;

// Runs the element loop with `op` a compile-time constant, so each instantiation vectorises.
template <typename T, BinaryOp Op>
void binary_typed(const Tensor& a, const Tensor& b, Tensor& y) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* py = static_cast<T*>(y.raw_data());
  const int64_t n = y.numel();
  if (a.shape() == y.shape() && b.shape() == y.shape()) {
    parallel_for(0, n, elementwise_grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) py[i] = binary_value(Op, pa[i], pb[i]);
    });
    return;
  }
  if (b.numel() == 1 && a.shape() == y.shape()) {
    const T vb = pb[0];
    parallel_for(0, n, elementwise_grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) py[i] = binary_value(Op, pa[i], vb);
    });
    return;
  }
  const auto out = dims5(y.shape());
  const auto sa = broadcast_strides(dims5(a.shape()), out);
  const auto sb = broadcast_strides(dims5(b.shape()), out);
  const int64_t rows = out[0] * out[1] * out[2] * out[3], w = out[4];
  parallel_for(0, rows, std::max<int64_t>(1, elementwise_grain / std::max<int64_t>(w, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, oa = 0, ob = 0;
      for (int d = 3; d >= 0; --d) {
        const size_t k = static_cast<size_t>(d);
        const int64_t c = rem % out[k];
        rem /= out[k];
        oa += c * sa[k];
        ob += c * sb[k];
      }
      T* row = py + r * w;
      const T* ra = pa + oa;
      const T* rb = pb + ob;
      if (sa[4] && sb[4]) for (int64_t i = 0; i < w; ++i) row[i] = binary_value(Op, ra[i], rb[i]);
      else if (sa[4]) for (int64_t i = 0; i < w; ++i) row[i] = binary_value(Op, ra[i], rb[0]);
      else if (sb[4]) for (int64_t i = 0; i < w; ++i) row[i] = binary_value(Op, ra[0], rb[i]);
      else for (int64_t i = 0; i < w; ++i) row[i] = binary_value(Op, ra[0], rb[0]);
    }
  });
}

template <typename T, UnaryOp Op>
void unary_typed(UnaryArgs args, const Tensor& x, Tensor& y) {
  const T* px = static_cast<const T*>(x.raw_data());
  T* py = static_cast<T*>(y.raw_data());
  parallel_for(0, x.numel(), elementwise_grain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) py[i] = unary_value(Op, args, px[i]);
  });
}

template <typename T, UnaryOp Op>
void unary_backward_typed(UnaryArgs args, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  const T* px = static_cast<const T*>(x.raw_data());
  const T* py = y.defined() ? static_cast<const T*>(y.raw_data()) : px;
  const T* pg = static_cast<const T*>(gy.raw_data());
  T* out = static_cast<T*>(gx.raw_data());
  parallel_for(0, x.numel(), elementwise_grain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) out[i] = pg[i] * unary_derivative(Op, args, px[i], py[i]);
  });
}

// Maps a runtime enum value to a compile-time template argument.
template <typename E, E... Values, typename F>
void with_constant(E value, F&& f) {
  ((value == Values ? (f(std::integral_constant<E, Values>{}), 0) : 0), ...);
}

#define UNIEM_UNARY_OPS                                                                                   \
  UnaryOp::relu, UnaryOp::leaky_relu, UnaryOp::elu, UnaryOp::sigmoid, UnaryOp::tanh, UnaryOp::exp,        \
      UnaryOp::log, UnaryOp::neg, UnaryOp::abs, UnaryOp::sqrt, UnaryOp::square, UnaryOp::add_scalar,      \
      UnaryOp::mul_scalar, UnaryOp::pow_scalar, UnaryOp::rsub_scalar, UnaryOp::rdiv_scalar, UnaryOp::clamp
#define UNIEM_BINARY_OPS BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div

}  // namespace

void CpuBackend::unary(UnaryOp op, UnaryArgs args, const Tensor& x, Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    with_constant<UnaryOp, UNIEM_UNARY_OPS>(op, [&](auto c) { unary_typed<T, decltype(c)::value>(args, x, y); });
  });
}

void CpuBackend::unary_backward(UnaryOp op, UnaryArgs args, const Tensor& x, const Tensor& y, const Tensor& gy,
                                Tensor& gx) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    with_constant<UnaryOp, UNIEM_UNARY_OPS>(
        op, [&](auto c) { unary_backward_typed<T, decltype(c)::value>(args, x, y, gy, gx); });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  cpu::dispatch_float(a.dtype(), [&](auto z) {
    using T = decltype(z);
    with_constant<BinaryOp, UNIEM_BINARY_OPS>(op, [&](auto c) { binary_typed<T, decltype(c)::value>(a, b, y); });
  });
}

void CpuBackend::sum_to(const Tensor& x, Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    const auto in = dims5(x.shape());
    const auto out = dims5(y.shape());
    std::array<int64_t, 5> stride{};
    for (int64_t i = 4, s = 1; i >= 0; --i) {
      stride[static_cast<size_t>(i)] = s;
      s *= in[static_cast<size_t>(i)];
    }
    std::array<int64_t, 5> reduce{};  // extent summed over per output element
    for (size_t k = 0; k < 5; ++k) reduce[k] = out[k] == 1 ? in[k] : 1;
    parallel_for(0, y.numel(), 1, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        int64_t rem = o, base = 0;
        for (int d = 4; d >= 0; --d) {
          const size_t k = static_cast<size_t>(d);
          base += (rem % out[k]) * stride[k];
          rem /= out[k];
        }
        double acc = 0;
        for (int64_t a = 0; a < reduce[0]; ++a)
          for (int64_t b = 0; b < reduce[1]; ++b)
            for (int64_t c = 0; c < reduce[2]; ++c)
              for (int64_t d = 0; d < reduce[3]; ++d) {
                const T* row = px + base + a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3];
                for (int64_t e = 0; e < reduce[4]; ++e) acc += static_cast<double>(row[e]);
              }
        py[o] = static_cast<T>(acc);
      }
    });
  });
}

void CpuBackend::sum_all(const Tensor& x, Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    const int64_t n = x.numel(), chunk = 1 << 15, chunks = (n + chunk - 1) / chunk;
    std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1)), 0.0);
    parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double acc = 0;
        for (int64_t i = c * chunk, e = std::min(n, i + chunk); i < e; ++i) acc += static_cast<double>(px[i]);
        partial[static_cast<size_t>(c)] = acc;
      }
    });
    double total = 0;
    for (double p : partial) total += p;
    *static_cast<T*>(y.raw_data()) = static_cast<T>(total);
  });
}

void CpuBackend::copy_window(const Tensor& src, const std::vector<int64_t>& src_start, Tensor& dst,
                             const std::vector<int64_t>& dst_start, const std::vector<int64_t>& extent) {
  const int rank = src.rank();
  const auto sd = dims5(src.shape()), dd = dims5(dst.shape());
  std::array<int64_t, 5> ext{1, 1, 1, 1, 1}, s0{}, d0{};
  for (int i = 0; i < rank; ++i) {
    const size_t k = static_cast<size_t>(5 - rank + i);
    ext[k] = extent[static_cast<size_t>(i)];
    s0[k] = src_start[static_cast<size_t>(i)];
    d0[k] = dst_start[static_cast<size_t>(i)];
  }
  const size_t elem = scalar_size(src.dtype());
  const char* ps = static_cast<const char*>(src.raw_data());
  char* pd = static_cast<char*>(dst.raw_data());
  const int64_t rows = ext[0] * ext[1] * ext[2] * ext[3];
  parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(ext[4], 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, os = 0, od = 0, ss = sd[4], ds = dd[4];
      os = s0[4];
      od = d0[4];
      for (int d = 3; d >= 0; --d) {
        const size_t k = static_cast<size_t>(d);
        const int64_t c = rem % ext[k];
        rem /= ext[k];
        os += (s0[k] + c) * ss;
        od += (d0[k] + c) * ds;
        ss *= sd[k];
        ds *= dd[k];
      }
      std::memcpy(pd + static_cast<size_t>(od) * elem, ps + static_cast<size_t>(os) * elem,
                  static_cast<size_t>(ext[4]) * elem);
    }
  });
}

}  // namespace uniem
