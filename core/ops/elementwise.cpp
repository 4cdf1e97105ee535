// Element-wise ops with broadcasting, scalar ops, activations and whole-tensor reductions. Their
// gradients are written once, in terms of other ops.
#include <algorithm>

#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;

// Both shapes padded on the left to a common rank, and the broadcast result shape.
struct Broadcast {
  Shape a, b, out;
};

Broadcast broadcast_shapes(const Tensor& a, const Tensor& b, const char* op) {
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> da(static_cast<size_t>(rank), 1), db(static_cast<size_t>(rank), 1), dout(static_cast<size_t>(rank));
  for (int i = 0; i < a.rank(); ++i) da[static_cast<size_t>(rank - a.rank() + i)] = a.size(i);
  for (int i = 0; i < b.rank(); ++i) db[static_cast<size_t>(rank - b.rank() + i)] = b.size(i);
  for (size_t i = 0; i < static_cast<size_t>(rank); ++i) {
    require(da[i] == db[i] || da[i] == 1 || db[i] == 1, op,
            [&] { return "shapes " + a.shape().str() + " and " + b.shape().str() + " do not broadcast"; });
    dout[i] = da[i] == 1 ? db[i] : da[i];
  }
  return {Shape(da), Shape(db), Shape(dout)};
}

// The gradient of a broadcast input: g summed back to the input's shape.
Tensor reduce_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int rank = g.rank();
  std::vector<int64_t> padded(static_cast<size_t>(rank), 1);
  for (int i = 0; i < shape.rank(); ++i) padded[static_cast<size_t>(rank - shape.rank() + i)] = shape[i];
  Tensor out = empty_like(g, Shape(padded));
  backend_of(g).sum_to(g, out);
  return out.reshape(shape);
}

// g (one element per broadcast group) stretched to `shape` in one pass: y = g * 1 broadcast.
Tensor expand(const Tensor& g, const Shape& shape) {
  Tensor y = empty_like(g, shape);
  std::vector<int64_t> ones(static_cast<size_t>(shape.rank()), 1), gdims = ones;
  for (int i = 0; i < g.rank(); ++i) gdims[static_cast<size_t>(shape.rank() - g.rank() + i)] = g.size(i);
  const Tensor one = Tensor::ones(Shape(ones), g.dtype(), g.device());
  backend_of(g).binary(BinaryOp::mul, g.detach().reshape(Shape(gdims)), one, y);
  return y;
}

Tensor binary(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  require_defined(a, name, "first operand");
  require_defined(b, name, "second operand");
  require_float(a, name);
  require(a.dtype() == b.dtype(), name, [&] { return describe(a) + " and " + describe(b) + " differ in type"; });
  require_compatible(a, b, name);
  const Broadcast s = broadcast_shapes(a, b, name);
  Tensor y = empty_like(a, s.out);
  backend_of(a).binary(op, a.detach().reshape(s.a), b.detach().reshape(s.b), y);
  const Shape sa = a.shape(), sb = b.shape();
  switch (op) {
    case BinaryOp::add:
      record(y, name, {a, b}, [sa, sb](const Tensor& g) { return std::vector<Tensor>{reduce_to(g, sa), reduce_to(g, sb)}; });
      break;
    case BinaryOp::sub:
      record(y, name, {a, b}, [sa, sb](const Tensor& g) { return std::vector<Tensor>{reduce_to(g, sa), reduce_to(neg(g), sb)}; });
      break;
    case BinaryOp::mul:
      record(y, name, {a, b}, [a, b](const Tensor& g) {
        return std::vector<Tensor>{a.requires_grad() ? reduce_to(mul(g, b), a.shape()) : Tensor(),
                                   b.requires_grad() ? reduce_to(mul(g, a), b.shape()) : Tensor()};
      });
      break;
    case BinaryOp::div:
      record(y, name, {a, b}, [a, b, yd = y.detach()](const Tensor& g) {
        Tensor ga = div(g, b);
        return std::vector<Tensor>{a.requires_grad() ? reduce_to(ga, a.shape()) : Tensor(),
                                   b.requires_grad() ? reduce_to(neg(mul(ga, yd)), b.shape()) : Tensor()};
      });
      break;
  }
  return y;
}

Tensor unary(UnaryOp op, const char* name, const Tensor& x, UnaryArgs args = {}) {
  require_defined(x, name, "input");
  require_float(x, name);
  Tensor y = empty_like(x);
  backend_of(x).unary(op, args, x, y);
  record(y, name, {x}, [op, args, x, yd = y.detach()](const Tensor& g) {
    Tensor gx = empty_like(g);
    backend_of(g).unary_backward(op, args, x, yd, g, gx);
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, "add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, "sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, "mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, "div", a, b); }

Tensor add(const Tensor& x, double s) { return unary(UnaryOp::add_scalar, "add", x, {s, 0}); }
Tensor sub(const Tensor& x, double s) { return unary(UnaryOp::add_scalar, "sub", x, {-s, 0}); }
Tensor mul(const Tensor& x, double s) { return unary(UnaryOp::mul_scalar, "mul", x, {s, 0}); }
Tensor div(const Tensor& x, double s) { return unary(UnaryOp::mul_scalar, "div", x, {1.0 / s, 0}); }
Tensor rsub(double s, const Tensor& x) { return unary(UnaryOp::rsub_scalar, "rsub", x, {s, 0}); }
Tensor rdiv(double s, const Tensor& x) { return unary(UnaryOp::rdiv_scalar, "rdiv", x, {s, 0}); }
Tensor pow(const Tensor& x, double e) { return unary(UnaryOp::pow_scalar, "pow", x, {e, 0}); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, "relu", x); }
Tensor leaky_relu(const Tensor& x, double slope) { return unary(UnaryOp::leaky_relu, "leaky_relu", x, {slope, 0}); }
Tensor elu(const Tensor& x, double alpha) { return unary(UnaryOp::elu, "elu", x, {alpha, 0}); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, "tanh", x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, "exp", x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::log, "log", x); }
Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, "neg", x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, "abs", x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, "sqrt", x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::square, "square", x); }
Tensor clamp(const Tensor& x, double low, double high) { return unary(UnaryOp::clamp, "clamp", x, {low, high}); }

Tensor sum(const Tensor& x) {
  require_float(x, "sum");
  Tensor y = empty_like(x, Shape{});
  backend_of(x).sum_all(x, y);
  record(y, "sum", {x}, [shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{expand(g, shape)};  // d(sum)/dx = 1 everywhere
  });
  return y;
}

Tensor mean(const Tensor& x) { return div(sum(x), static_cast<double>(std::max<int64_t>(x.numel(), 1))); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  require_float(x, "sum_to");
  require(shape.rank() <= x.rank(), "sum_to", [&] { return "cannot sum " + describe(x) + " to " + shape.str(); });
  Tensor y = reduce_to(x.detach(), shape);
  if (y.same_storage(x)) y = y.clone();
  record(y, "sum_to", {x}, [shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{expand(g, shape)};
  });
  return y;
}

Tensor sum_per_channel(const Tensor& x) {
  require(x.rank() >= 2, "sum_per_channel", [&] { return "expects (N, C, ...), got " + describe(x); });
  std::vector<int64_t> dims(static_cast<size_t>(x.rank()), 1);
  dims[1] = x.size(1);
  return sum_to(x, Shape(dims));
}

}  // namespace uniem::ops
