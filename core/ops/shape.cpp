// Shape ops, all built on the backend's windowed copy: a window (crop, slice) and its adjoint, a
// placement into zeros (pad). Concatenation places each part; its gradient takes the windows back.
#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;
using Index = std::vector<int64_t>;

Tensor place(const Tensor& x, const Shape& out_shape, const Index& start);

// The box [start, start + extent) of x.
Tensor window(const Tensor& x, const Index& start, const Shape& extent) {
  Tensor y = empty_like(x, extent);
  backend_of(x).copy_window(x, start, y, Index(start.size(), 0), extent.vec());
  record(y, "window", {x}, [start, shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{place(g, shape, start)};
  });
  return y;
}

// x written at `start` into zeros of out_shape.
Tensor place(const Tensor& x, const Shape& out_shape, const Index& start) {
  Tensor y = Tensor::zeros(out_shape, x.dtype(), x.device());
  backend_of(x).copy_window(x, Index(start.size(), 0), y, start, x.shape().vec());
  record(y, "place", {x}, [start, extent = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{window(g, start, extent)};
  });
  return y;
}

int normalise_dim(const Tensor& x, int dim, const char* op) {
  const int d = dim < 0 ? dim + x.rank() : dim;
  require(d >= 0 && d < x.rank(), op, [&] { return "dimension " + std::to_string(dim) + " of " + describe(x); });
  return d;
}

}  // namespace

Tensor concat(const std::vector<Tensor>& parts, int dim) {
  require(!parts.empty(), "concat", "no tensors to concatenate");
  const Tensor& first = parts.front();
  const int d = normalise_dim(first, dim, "concat");
  Shape out = first.shape();
  out[d] = 0;
  for (const Tensor& p : parts) {
    require(p.rank() == first.rank() && p.dtype() == first.dtype(), "concat",
            [&] { return describe(p) + " does not match " + describe(first); });
    require_compatible(first, p, "concat");
    for (int i = 0; i < p.rank(); ++i)
      require(i == d || p.size(i) == first.size(i), "concat",
              [&] { return "sizes differ outside dimension " + std::to_string(d) + ": " + describe(p) + " and " + describe(first); });
    out[d] += p.size(d);
  }
  Tensor y = empty_like(first, out);
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (const Tensor& p : parts) {
    Index start(static_cast<size_t>(p.rank()), 0);
    start[static_cast<size_t>(d)] = offset;
    backend_of(p).copy_window(p, Index(start.size(), 0), y, start, p.shape().vec());
    offsets.push_back(offset);
    offset += p.size(d);
  }
  std::vector<Shape> shapes;
  for (const Tensor& p : parts) shapes.push_back(p.shape());
  record(y, "concat", parts, [d, offsets, shapes](const Tensor& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < shapes.size(); ++i) {
      Index start(static_cast<size_t>(g.rank()), 0);
      start[static_cast<size_t>(d)] = offsets[i];
      grads.push_back(window(g, start, shapes[i]));
    }
    return grads;
  });
  return y;
}

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t length) {
  const int d = normalise_dim(x, dim, "slice");
  require(start >= 0 && length >= 0 && start + length <= x.size(d), "slice",
          [&] { return "[" + std::to_string(start) + ", " + std::to_string(start + length) + ") of dimension " +
              std::to_string(d) + " of " + describe(x); });
  Index begin(static_cast<size_t>(x.rank()), 0);
  begin[static_cast<size_t>(d)] = start;
  Shape extent = x.shape();
  extent[d] = length;
  return window(x, begin, extent);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& low, const std::vector<int64_t>& high) {
  require(low.size() == static_cast<size_t>(x.rank()) && high.size() == low.size(), "pad",
          [&] { return "needs one low and one high amount per dimension of " + describe(x); });
  Shape out = x.shape();
  for (int i = 0; i < x.rank(); ++i) {
    require(low[static_cast<size_t>(i)] >= 0 && high[static_cast<size_t>(i)] >= 0, "pad", "negative padding");
    out[i] += low[static_cast<size_t>(i)] + high[static_cast<size_t>(i)];
  }
  return place(x, out, low);
}

Tensor centre_crop(const Tensor& x, const std::vector<int64_t>& spatial) {
  require(x.rank() >= 3 && spatial.size() == static_cast<size_t>(x.rank() - 2), "centre_crop",
          [&] { return "needs one size per spatial dimension of " + describe(x); });
  Index start(static_cast<size_t>(x.rank()), 0);
  Shape extent = x.shape();
  for (size_t i = 0; i < spatial.size(); ++i) {
    const int dim = static_cast<int>(i) + 2;
    require(spatial[i] >= 0 && spatial[i] <= x.size(dim), "centre_crop",
            [&] { return "cannot crop " + describe(x) + " to " + std::to_string(spatial[i]) + " in dimension " + std::to_string(dim); });
    start[i + 2] = (x.size(dim) - spatial[i]) / 2;
    extent[dim] = spatial[i];
  }
  return window(x, start, extent);
}

}  // namespace uniem::ops
