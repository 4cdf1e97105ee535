// Element-wise kernels on the GPU: unary ops and their derivatives, broadcasting binary ops,
// reductions to a broadcast shape and to one value, and windowed copies. The same formulas as the
// CPU backend (core/cpu/elementwise.cpp), one thread per element.
#include <array>

#include "cuda/cuda_backend.h"
#include "cuda/reduce.cuh"

namespace uniem::cuda {
namespace {

// Dimensions padded with leading 1s to rank 5, and row-major strides (0 where broadcast).
struct Dims5 {
  int64_t d[5];
};
Dims5 dims5(const Shape& s) {
  Dims5 r{{1, 1, 1, 1, 1}};
  for (int i = 0; i < s.rank(); ++i) r.d[5 - s.rank() + i] = s[i];
  return r;
}
Dims5 broadcast_strides(const Dims5& d, const Dims5& out) {
  Dims5 s{};
  int64_t stride = 1;
  for (int i = 4; i >= 0; --i) {
    s.d[i] = (d.d[i] == 1 && out.d[i] != 1) ? 0 : stride;
    stride *= d.d[i];
  }
  return s;
}

#define UNIEM_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

using kernel::binary_value;
using kernel::unary_derivative;
using kernel::unary_value;

template <typename T>
__global__ void unary_kernel(UnaryOp op, UnaryArgs args, const T* x, T* y, int64_t n) {
  UNIEM_GRID_LOOP(i, n) y[i] = unary_value(op, args, x[i]);
}

template <typename T>
__global__ void unary_backward_kernel(UnaryOp op, UnaryArgs args, const T* x, const T* y, const T* gy, T* gx,
                                      int64_t n) {
  UNIEM_GRID_LOOP(i, n) gx[i] = gy[i] * unary_derivative(op, args, x[i], y[i]);
}

template <typename T>
__global__ void binary_same_kernel(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  UNIEM_GRID_LOOP(i, n) y[i] = binary_value(op, a[i], b[i]);
}

// An operand broadcast along every dimension but one contiguous run of them: element i of the
// output reads element (i / inner) % count (a per-channel bias, a row, a scalar).
struct Modular {
  int64_t inner = 1, count = 1;
};

// Whether d (against out) has that form; fills m.
bool modular(const Dims5& d, const Dims5& out, Modular& m) {
  int first = -1, last = -1;
  for (int k = 0; k < 5; ++k) {
    if (d.d[k] == 1 && out.d[k] != 1) continue;
    if (d.d[k] != out.d[k]) return false;
    if (out.d[k] == 1) continue;
    if (first < 0) first = k;
    else if (last != k - 1) return false;
    last = k;
  }
  m = {};
  if (first < 0) return true;  // a scalar: count 1
  for (int k = first; k <= last; ++k) m.count *= d.d[k];
  for (int k = last + 1; k < 5; ++k) m.inner *= out.d[k];
  return true;
}

template <typename T>
__global__ void binary_modular_kernel(BinaryOp op, const T* a, const T* b, T* y, Modular ma, Modular mb, int64_t n) {
  UNIEM_GRID_LOOP(i, n) y[i] = binary_value(op, a[(i / ma.inner) % ma.count], b[(i / mb.inner) % mb.count]);
}

template <typename T>
__global__ void binary_broadcast_kernel(BinaryOp op, const T* a, const T* b, T* y, Dims5 out, Dims5 sa, Dims5 sb,
                                        int64_t n) {
  UNIEM_GRID_LOOP(i, n) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = 4; d >= 0; --d) {
      const int64_t c = rem % out.d[d];
      rem /= out.d[d];
      oa += c * sa.d[d];
      ob += c * sb.d[d];
    }
    y[i] = binary_value(op, a[oa], b[ob]);
  }
}

// One output element per thread, or per block when each sums many inputs.
template <typename T>
__device__ inline double sum_reduced(const T* x, const Dims5& in, const Dims5& stride, const Dims5& reduce,
                                     int64_t base, int64_t first, int64_t step) {
  const int64_t count = reduce.d[0] * reduce.d[1] * reduce.d[2] * reduce.d[3] * reduce.d[4];
  double acc = 0;
  for (int64_t r = first; r < count; r += step) {
    int64_t rem = r, at = base;
    for (int d = 4; d >= 0; --d) {
      at += (rem % reduce.d[d]) * stride.d[d];
      rem /= reduce.d[d];
    }
    acc += static_cast<double>(x[at]);
  }
  return acc;
}

__device__ inline int64_t reduced_base(int64_t o, const Dims5& out, const Dims5& stride) {
  int64_t rem = o, base = 0;
  for (int d = 4; d >= 0; --d) {
    base += (rem % out.d[d]) * stride.d[d];
    rem /= out.d[d];
  }
  return base;
}

template <typename T>
__global__ void sum_to_thread_kernel(const T* x, T* y, Dims5 in, Dims5 out, Dims5 stride, Dims5 reduce, int64_t n) {
  UNIEM_GRID_LOOP(o, n) y[o] = static_cast<T>(sum_reduced(x, in, stride, reduce, reduced_base(o, out, stride), 0, 1));
}

template <typename T>
__global__ void sum_to_block_kernel(const T* x, T* y, Dims5 in, Dims5 out, Dims5 stride, Dims5 reduce) {
  const int64_t o = blockIdx.x;
  const double part = sum_reduced(x, in, stride, reduce, reduced_base(o, out, stride), threadIdx.x, blockDim.x);
  const SumPair total = block_sum({part, 0});
  if (threadIdx.x == 0) y[o] = static_cast<T>(total.sum);
}

template <int Bytes>
struct Word;
template <> struct Word<1> { using type = uint8_t; };
template <> struct Word<4> { using type = uint32_t; };
template <> struct Word<8> { using type = uint64_t; };

// One block row per contiguous run (the offsets found once per block), threads along the run.
template <typename W>
__global__ void copy_runs_kernel(const W* src, W* dst, Dims5 ss, Dims5 ds, Dims5 s0, Dims5 d0, Dims5 ext, int k,
                                 int64_t runs, int64_t run) {
  for (int64_t r = blockIdx.x; r < runs; r += gridDim.x) {
    int64_t rem = r, os = s0.d[k] * ss.d[k], od = d0.d[k] * ds.d[k];
    for (int d = k - 1; d >= 0; --d) {
      const int64_t c = rem % ext.d[d];
      rem /= ext.d[d];
      os += (s0.d[d] + c) * ss.d[d];
      od += (d0.d[d] + c) * ds.d[d];
    }
    for (int64_t i = blockIdx.y * int64_t{blockDim.x} + threadIdx.x; i < run; i += int64_t{gridDim.y} * blockDim.x)
      dst[od + i] = src[os + i];
  }
}

template <typename W>
__global__ void copy_window_kernel(const W* src, W* dst, Dims5 sd, Dims5 dd, Dims5 s0, Dims5 d0, Dims5 ext,
                                   int64_t n) {
  UNIEM_GRID_LOOP(i, n) {
    int64_t rem = i, os = 0, od = 0, ss = 1, ds = 1;
    for (int d = 4; d >= 0; --d) {
      const int64_t c = rem % ext.d[d];
      rem /= ext.d[d];
      os += (s0.d[d] + c) * ss;
      od += (d0.d[d] + c) * ds;
      ss *= sd.d[d];
      ds *= dd.d[d];
    }
    dst[od] = src[os];
  }
}

}  // namespace

void CudaBackend::unary(UnaryOp op, UnaryArgs args, const Tensor& x, Tensor& y) {
  const OpTimer timer(*this, "unary");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    unary_kernel<T><<<blocks_for(x.numel()), threads_per_block, 0, stream_>>>(op, args, ptr<T>(x), ptr<T>(y),
                                                                             x.numel());
  });
  check_launch("unary");
}

void CudaBackend::unary_backward(UnaryOp op, UnaryArgs args, const Tensor& x, const Tensor& y, const Tensor& gy,
                                 Tensor& gx) {
  const OpTimer timer(*this, "unary_backward");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* py = y.defined() ? ptr<T>(y) : ptr<T>(x);
    unary_backward_kernel<T><<<blocks_for(x.numel()), threads_per_block, 0, stream_>>>(
        op, args, ptr<T>(x), py, ptr<T>(gy), ptr<T>(gx), x.numel());
  });
  check_launch("unary_backward");
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  const OpTimer timer(*this, "binary");
  dispatch_float(a.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = y.numel();
    if (a.shape() == y.shape() && b.shape() == y.shape()) {
      binary_same_kernel<T><<<blocks_for(n), threads_per_block, 0, stream_>>>(op, ptr<T>(a), ptr<T>(b), ptr<T>(y), n);
    } else if (Modular ma, mb; modular(dims5(a.shape()), dims5(y.shape()), ma) &&
                                 modular(dims5(b.shape()), dims5(y.shape()), mb)) {
      binary_modular_kernel<T><<<blocks_for(n), threads_per_block, 0, stream_>>>(op, ptr<T>(a), ptr<T>(b), ptr<T>(y),
                                                                                 ma, mb, n);
    } else {
      const Dims5 out = dims5(y.shape());
      binary_broadcast_kernel<T><<<blocks_for(n), threads_per_block, 0, stream_>>>(
          op, ptr<T>(a), ptr<T>(b), ptr<T>(y), out, broadcast_strides(dims5(a.shape()), out),
          broadcast_strides(dims5(b.shape()), out), n);
    }
  });
  check_launch("binary");
}

void CudaBackend::sum_to(const Tensor& x, Tensor& y) {
  const OpTimer timer(*this, "sum_to");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const Dims5 in = dims5(x.shape()), out = dims5(y.shape());
    Dims5 stride{}, reduce{};
    int64_t s = 1;
    for (int i = 4; i >= 0; --i) {
      stride.d[i] = s;
      s *= in.d[i];
    }
    int64_t count = 1;
    for (int k = 0; k < 5; ++k) {
      reduce.d[k] = out.d[k] == 1 ? in.d[k] : 1;
      count *= reduce.d[k];
    }
    // The output dims are 1 where reduced, so the base offset uses the output index in the others.
    if (count >= threads_per_block && y.numel() < (1 << 20))
      sum_to_block_kernel<T><<<static_cast<unsigned>(y.numel()), threads_per_block, 0, stream_>>>(
          ptr<T>(x), ptr<T>(y), in, out, stride, reduce);
    else
      sum_to_thread_kernel<T><<<blocks_for(y.numel()), threads_per_block, 0, stream_>>>(
          ptr<T>(x), ptr<T>(y), in, out, stride, reduce, y.numel());
  });
  check_launch("sum_to");
}

namespace {
// (A device lambda may not sit inside dispatch_float's generic lambda, hence a named template.)
template <typename T>
void sum_all_typed(const Tensor& x, Tensor& y) {
  const T* px = ptr<T>(x);
  deterministic_sum<T>(x.numel(), [px] __device__(int64_t i) { return SumPair{static_cast<double>(px[i]), 0}; },
                       ptr<T>(y), static_cast<T*>(nullptr));
}
}  // namespace

void CudaBackend::sum_all(const Tensor& x, Tensor& y) {
  const OpTimer timer(*this, "sum_all");
  if (x.dtype() == ScalarType::f64) sum_all_typed<double>(x, y);
  else dispatch_float(x.dtype(), [&](float) { sum_all_typed<float>(x, y); });
}

void CudaBackend::copy_window(const Tensor& src, const std::vector<int64_t>& src_start, Tensor& dst,
                              const std::vector<int64_t>& dst_start, const std::vector<int64_t>& extent) {
  const OpTimer timer(*this, "copy_window");
  const int rank = src.rank();
  Dims5 ext{{1, 1, 1, 1, 1}}, s0{}, d0{};
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    const int k = 5 - rank + i;
    ext.d[k] = extent[static_cast<size_t>(i)];
    s0.d[k] = src_start[static_cast<size_t>(i)];
    d0.d[k] = dst_start[static_cast<size_t>(i)];
    n *= ext.d[k];
  }
  if (n == 0) return;
  const Dims5 sd = dims5(src.shape()), dd = dims5(dst.shape());
  // The longest contiguous run: trailing dimensions copied whole in both tensors, plus the next one.
  int k = 4;
  int64_t run = ext.d[4];
  while (k > 0 && ext.d[k] == sd.d[k] && ext.d[k] == dd.d[k]) run *= ext.d[--k];
  Dims5 ss{}, ds{};  // row-major strides of src and dst
  int64_t sa = 1, sb = 1;
  for (int i = 4; i >= 0; --i) {
    ss.d[i] = sa;
    ds.d[i] = sb;
    sa *= sd.d[i];
    sb *= dd.d[i];
  }
  auto launch = [&](auto word) {
    using W = decltype(word);
    if (run >= 128) {
      const int64_t runs = n / run;
      const dim3 grid(static_cast<unsigned>(std::min<int64_t>(runs, 1 << 20)),
                      static_cast<unsigned>(std::min<int64_t>(65535, (run + threads_per_block - 1) / threads_per_block)));
      copy_runs_kernel<W><<<grid, threads_per_block, 0, stream_>>>(static_cast<const W*>(src.raw_data()),
                                                                   static_cast<W*>(dst.raw_data()), ss, ds, s0, d0, ext,
                                                                   k, runs, run);
    } else {
      copy_window_kernel<W><<<blocks_for(n), threads_per_block, 0, stream_>>>(
          static_cast<const W*>(src.raw_data()), static_cast<W*>(dst.raw_data()), sd, dd, s0, d0, ext, n);
    }
  };
  switch (scalar_size(src.dtype())) {
    case 1: launch(Word<1>::type{}); break;
    case 4: launch(Word<4>::type{}); break;
    default: launch(Word<8>::type{}); break;
  }
  check_launch("copy_window");
}

}  // namespace uniem::cuda
