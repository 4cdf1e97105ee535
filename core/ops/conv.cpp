// Convolution and transposed convolution, 2-D and 3-D. A 2-D op runs the 3-D kernels with D = 1.
// The transposed convolution is the adjoint of the convolution: its forward is the convolution's
// backward-data, its backward-data the convolution's forward, so the backends need three kernels.
#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;

// 2-D ops: the D axis is a no-op.
ConvParams normalised(ConvParams p, int spatial) {
  if (spatial == 2) {
    p.stride[0] = 1;
    p.padding[0] = 0;
    p.dilation[0] = 1;
    p.output_padding[0] = 0;
  }
  return p;
}

void check_conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p, int spatial,
                const char* name, bool transposed) {
  require_defined(x, name, "input");
  require_defined(w, name, "weight");
  require_float(x, name);
  require_rank(x, spatial + 2, name);
  require(w.rank() == spatial + 2, name, [&] { return "weight must be " + std::to_string(spatial + 2) + "-D, got " + describe(w); });
  require(w.dtype() == x.dtype(), name, [&] { return "weight " + describe(w) + " and input " + describe(x) + " differ in type"; });
  require_compatible(x, w, name);
  require(x.size(1) == w.size(transposed ? 0 : 1), name,
          [&] { return "input has " + std::to_string(x.size(1)) + " channels but the weight " + describe(w) + " expects " +
              std::to_string(w.size(transposed ? 0 : 1)); });
  const int64_t out_channels = w.size(transposed ? 1 : 0);
  if (b.defined()) {
    require(b.rank() == 1 && b.size(0) == out_channels && b.dtype() == x.dtype(), name,
            [&] { return "bias must be (" + std::to_string(out_channels) + "), got " + describe(b); });
    require_compatible(x, b, name);
  }
  for (int i = 3 - spatial; i < 3; ++i)
    require(p.stride[i] >= 1 && p.dilation[i] >= 1 && p.padding[i] >= 0 && p.output_padding[i] >= 0, name,
            "stride and dilation must be >= 1, padding >= 0");
}

// Bias (Cout) as (1, Cout, 1, ...) for broadcasting against y.
Tensor bias_view(const Tensor& b, int rank) {
  std::vector<int64_t> dims(static_cast<size_t>(rank), 1);
  dims[1] = b.size(0);
  return b.reshape(Shape(dims));
}

Tensor convolution(const Tensor& x, const Tensor& w, const Tensor& b, ConvParams p, int spatial, const char* name) {
  check_conv(x, w, b, p, spatial, name, false);
  p = normalised(p, spatial);
  const Tensor x5 = as_5d(x), w5 = as_5d(w);
  std::vector<int64_t> out{x.size(0), w.size(0), 0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const int64_t in = x5.size(i + 2), k = w5.size(i + 2);
    const int64_t span = int64_t{p.dilation[i]} * (k - 1) + 1;
    const int64_t o = (in + 2 * p.padding[i] - span) / p.stride[i] + 1;
    require(in + 2 * p.padding[i] >= span && o >= 1, name,
            [&] { return "input " + describe(x) + " is smaller than the kernel " + describe(w) + " (with padding and dilation)"; });
    out[static_cast<size_t>(i + 2)] = o;
  }
  Tensor y5 = Tensor::empty(Shape(out), x.dtype(), x.device());
  backend_of(x).conv_forward(p, x5, w5, b.defined() ? b.detach() : Tensor(), y5);
  Tensor y = spatial == 2 ? y5.reshape(Shape{out[0], out[1], out[3], out[4]}) : y5;
  record(y, name, {x, w, b}, [p, x, w, b, x5, w5](const Tensor& g) {
    const Tensor g5 = as_5d(g);
    Tensor gx, gw, gb;
    if (x.requires_grad()) {
      gx = empty_like(x);
      Tensor gx5 = as_5d(gx);
      backend_of(g).conv_backward_data(p, g5, w5, gx5);
    }
    if (w.requires_grad() || (b.defined() && b.requires_grad())) {
      gw = empty_like(w);
      gb = b.defined() ? empty_like(b) : Tensor();
      Tensor gw5 = as_5d(gw);
      backend_of(g).conv_backward_filter(p, x5, g5, gw5, gb);
    }
    return std::vector<Tensor>{gx, w.requires_grad() ? gw : Tensor(), gb};
  });
  return y;
}

Tensor transposed(const Tensor& x, const Tensor& w, const Tensor& b, ConvParams p, int spatial, const char* name) {
  check_conv(x, w, b, p, spatial, name, true);
  p = normalised(p, spatial);
  const Tensor x5 = as_5d(x), w5 = as_5d(w);
  std::vector<int64_t> out{x.size(0), w.size(1), 0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    require(p.output_padding[i] < std::max(p.stride[i], p.dilation[i]), name,
            "output_padding must be smaller than the stride or the dilation");
    const int64_t o = (x5.size(i + 2) - 1) * p.stride[i] - 2 * int64_t{p.padding[i]} +
                      int64_t{p.dilation[i]} * (w5.size(i + 2) - 1) + p.output_padding[i] + 1;
    require(o >= 1, name, [&] { return "padding leaves no output for " + describe(x); });
    out[static_cast<size_t>(i + 2)] = o;
  }
  Tensor y5 = Tensor::empty(Shape(out), x.dtype(), x.device());
  backend_of(x).conv_backward_data(p, x5, w5, y5);
  Tensor y = spatial == 2 ? y5.reshape(Shape{out[0], out[1], out[3], out[4]}) : y5;
  record(y, name, {x, w}, [p, x, w, x5, w5](const Tensor& g) {
    const Tensor g5 = as_5d(g);
    Tensor gx, gw;
    if (x.requires_grad()) {
      gx = empty_like(x);
      Tensor gx5 = as_5d(gx);
      backend_of(g).conv_forward(p, g5, w5, Tensor(), gx5);
    }
    if (w.requires_grad()) {
      gw = empty_like(w);
      Tensor gw5 = as_5d(gw), no_bias;
      backend_of(g).conv_backward_filter(p, g5, x5, gw5, no_bias);
    }
    return std::vector<Tensor>{gx, gw};
  });
  return b.defined() ? add(y, bias_view(b, y.rank())) : y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p) {
  return convolution(x, w, b, p, 2, "conv2d");
}
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p) {
  return convolution(x, w, b, p, 3, "conv3d");
}
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p) {
  return transposed(x, w, b, p, 2, "conv_transpose2d");
}
Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p) {
  return transposed(x, w, b, p, 3, "conv_transpose3d");
}

}  // namespace uniem::ops
