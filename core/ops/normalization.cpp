// Batch normalisation, softmax over channels, dropout.
#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;

Tensor softmax_op(const Tensor& x, bool log, const char* name) {
  require_defined(x, name, "input");
  require_float(x, name);
  require(x.rank() >= 2, name, [&] { return "expects (N, C, ...), got " + describe(x); });
  Tensor y = empty_like(x);
  backend_of(x).softmax_forward(log, x, y);
  record(y, name, {x}, [log, yd = y.detach()](const Tensor& g) {
    Tensor gx = empty_like(g);
    backend_of(g).softmax_backward(log, yd, g, gx);
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, const BatchNormParams& p) {
  const char* name = "batch_norm";
  require_defined(x, name, "input");
  require_float(x, name);
  require(x.rank() >= 2, name, [&] { return "expects (N, C, ...), got " + describe(x); });
  const int64_t c = x.size(1);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&gamma, &beta, &running_mean, &running_var}) {
    require(t->defined() && t->rank() == 1 && t->size(0) == c && t->dtype() == x.dtype(), name,
            [&] { return "per-channel tensors must be (" + std::to_string(c) + ") of " + scalar_name(x.dtype()); });
    require_compatible(x, *t, name);
  }
  if (training)
    require(x.numel() / c > 1, name, [&] { return "training needs more than one value per channel, got " + describe(x); });
  const bool needs_grad = grad_enabled() && (x.requires_grad() || gamma.requires_grad() || beta.requires_grad());
  if (!training && needs_grad) {
    // Evaluation with gradients (fine-tuning a frozen-statistics model): y = x * scale + shift
    // with fixed statistics, differentiated as that composite.
    std::vector<int64_t> dims(static_cast<size_t>(x.rank()), 1);
    dims[1] = c;
    const Tensor scale = mul(gamma, rdiv(1.0, sqrt(add(running_var.detach(), p.eps))));
    const Tensor shift = sub(beta, mul(running_mean.detach(), scale));
    return add(mul(x, scale.reshape(Shape(dims))), shift.reshape(Shape(dims)));
  }
  Tensor y = empty_like(x);
  Tensor save_mean = empty_like(x, Shape{c}), save_invstd = empty_like(x, Shape{c});
  Tensor rm = running_mean.detach(), rv = running_var.detach();
  backend_of(x).batch_norm_forward(p, training, x, gamma.detach(), beta.detach(), rm, rv, y, save_mean, save_invstd);
  if (training) {
    record(y, name, {x, gamma, beta}, [x, gamma, save_mean, save_invstd](const Tensor& g) {
      Tensor gx = empty_like(g), gg = empty_like(gamma), gb = empty_like(gamma);
      backend_of(g).batch_norm_backward(x, gamma, save_mean, save_invstd, g, gx, gg, gb);
      return std::vector<Tensor>{gx, gg, gb};
    });
  }
  return y;
}

Tensor softmax(const Tensor& x) { return softmax_op(x, false, "softmax"); }
Tensor log_softmax(const Tensor& x) { return softmax_op(x, true, "log_softmax"); }

Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  require(p >= 0 && p < 1, "dropout", [&] { return "probability must be in [0, 1), got " + std::to_string(p); });
  if (!training || p == 0) return x;
  Tensor keep = empty_like(x);
  backend_of(x).random_bernoulli(keep, {generator.seed(), generator.advance(static_cast<uint64_t>(x.numel()))}, 1 - p);
  return mul(x, mul(keep, 1.0 / (1 - p)));
}

}  // namespace uniem::ops
