// Max and average pooling (2-D and 3-D) and 2-D upsampling.
#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;

Tensor pool(PoolMode mode, const Tensor& x, PoolParams p, int spatial, const char* name) {
  require_defined(x, name, "input");
  require_float(x, name);
  require_rank(x, spatial + 2, name);
  if (spatial == 2) {
    p.kernel[0] = 1;
    p.stride[0] = 1;
    p.padding[0] = 0;
  }
  const Tensor x5 = as_5d(x);
  std::vector<int64_t> out{x.size(0), x.size(1), 0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (p.stride[i] <= 0) p.stride[i] = p.kernel[i];
    require(p.kernel[i] >= 1 && p.padding[i] >= 0 && 2 * p.padding[i] <= p.kernel[i], name,
            "kernel must be >= 1 and padding at most half the kernel");
    const int64_t span = x5.size(i + 2) + 2 * p.padding[i];
    require(span >= p.kernel[i], name, [&] { return "input " + describe(x) + " is smaller than the pooling window"; });
    out[static_cast<size_t>(i + 2)] = (span - p.kernel[i]) / p.stride[i] + 1;
  }
  Tensor y5 = Tensor::empty(Shape(out), x.dtype(), x.device());
  Tensor indices = mode == PoolMode::max ? Tensor::empty(Shape(out), ScalarType::i32, x.device()) : Tensor();
  backend_of(x).pool_forward(mode, p, x5, y5, indices);
  Tensor y = spatial == 2 ? y5.reshape(Shape{out[0], out[1], out[3], out[4]}) : y5;
  record(y, name, {x}, [mode, p, indices, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    Tensor gx5 = as_5d(gx);
    backend_of(g).pool_backward(mode, p, as_5d(g), indices, gx5);
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const PoolParams& p) { return pool(PoolMode::max, x, p, 2, "max_pool2d"); }
Tensor max_pool3d(const Tensor& x, const PoolParams& p) { return pool(PoolMode::max, x, p, 3, "max_pool3d"); }
Tensor avg_pool2d(const Tensor& x, const PoolParams& p) { return pool(PoolMode::average, x, p, 2, "avg_pool2d"); }
Tensor avg_pool3d(const Tensor& x, const PoolParams& p) { return pool(PoolMode::average, x, p, 3, "avg_pool3d"); }

Tensor upsample2d(const Tensor& x, int64_t height, int64_t width, UpsampleMode mode) {
  require_defined(x, "upsample2d", "input");
  require_float(x, "upsample2d");
  require_rank(x, 4, "upsample2d");
  require(height >= 1 && width >= 1, "upsample2d", "output size must be at least 1x1");
  Tensor y = empty_like(x, Shape{x.size(0), x.size(1), height, width});
  backend_of(x).upsample_forward(mode, x, y);
  record(y, "upsample2d", {x}, [mode, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    backend_of(g).upsample_backward(mode, g, gx);
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace uniem::ops
