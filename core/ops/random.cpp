// Random tensors drawn from an explicit Generator (core/generator.h).
#include "core/ops/op_support.h"

namespace uniem::ops {

Tensor rand(const Shape& shape, Generator& generator, double low, double high, ScalarType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend(device).random_uniform(t, {generator.seed(), generator.advance(static_cast<uint64_t>(t.numel()))}, low, high);
  return t;
}

Tensor randn(const Shape& shape, Generator& generator, double mean, double stddev, ScalarType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend(device).random_normal(t, {generator.seed(), generator.advance(2 * static_cast<uint64_t>(t.numel()))}, mean,
                                stddev);
  return t;
}

}  // namespace uniem::ops
