// Named parameter structs of the runtime's ops, shared by the ops (core/ops/) and every backend.
//
// Spatial triples are (D, H, W). A 2-D op reads H and W only: its tensors are passed to the
// backends as 5-D with D = 1, so one kernel serves 2-D and 3-D.
#pragma once

#include <array>
#include <cstddef>

namespace uniem {

// A per-axis integer triple (D, H, W); a single int means the same on every axis.
struct Int3 {
  std::array<int, 3> v{1, 1, 1};
  Int3() = default;
  Int3(int all) : v{all, all, all} {}  // NOLINT: implicit on purpose, `.padding = 1`
  Int3(int d, int h, int w) : v{d, h, w} {}
  int operator[](int i) const { return v[static_cast<size_t>(i)]; }
  int& operator[](int i) { return v[static_cast<size_t>(i)]; }
  bool operator==(const Int3&) const = default;
};

struct ConvParams {
  Int3 stride = 1;
  Int3 padding = 0;
  Int3 dilation = 1;
  Int3 output_padding = 0;  // transposed convolution only: extra rows on the high side
};

enum class PoolMode { max, average };
struct PoolParams {
  Int3 kernel = 2;
  Int3 stride = 0;  // 0: same as kernel
  Int3 padding = 0;
  // Average pooling divides by the whole window, padding included (PyTorch's default).
};

enum class UpsampleMode { nearest, bilinear };  // bilinear with align_corners = false

struct BatchNormParams {
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
};

enum class UnaryOp {
  relu, leaky_relu, elu, sigmoid, tanh, exp, log, neg, abs, sqrt, square,
  add_scalar, mul_scalar, pow_scalar, rsub_scalar, rdiv_scalar, clamp
};
struct UnaryArgs {
  double a = 0;  // leaky_relu slope, elu alpha, the scalar, clamp low
  double b = 0;  // clamp high
};

enum class BinaryOp { add, sub, mul, div };

enum class PointwiseLoss {
  squared_error,          // (x - t)^2
  absolute_error,         // |x - t|
  sigmoid_cross_entropy,  // -t log s(x) - (1 - t) log(1 - s(x)), x logits
};

struct SgdParams {
  double lr = 0.01;
  double momentum = 0;
  double weight_decay = 0;  // added to the gradient (L2)
  bool nesterov = false;
};

struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled = false;  // AdamW: decay the weights directly, not through the gradient
};

}  // namespace uniem
