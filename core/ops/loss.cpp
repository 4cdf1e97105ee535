// Losses. The point-wise ones and softmax cross-entropy have their own kernels (forward: the
// weighted sum and the count; backward: the gradient of the sum); the mean is sum / max(count, 1),
// so a batch where everything is ignored gives 0 and no gradient. Dice is a composite of other ops.
#include "core/ops/op_support.h"

namespace uniem::ops {
namespace {
using namespace detail;

// weight / mask: undefined, the shape of x, or (N, 1, ...) matching x elsewhere.
void check_pixel_tensor(const Tensor& x, const Tensor& t, ScalarType dtype, const char* name, const char* what) {
  if (!t.defined()) return;
  require(t.dtype() == dtype, name, [&] { return std::string(what) + " must be " + scalar_name(dtype) + ", got " + describe(t); });
  require_compatible(x, t, name);
  bool ok = t.shape() == x.shape();
  if (!ok && t.rank() == x.rank() && x.rank() >= 2 && t.size(1) == 1) {
    ok = true;
    for (int i = 0; i < x.rank(); ++i) ok = ok && (i == 1 || t.size(i) == x.size(i));
  }
  require(ok, name, [&] { return std::string(what) + " " + describe(t) + " must have the shape of the prediction " +
                        describe(x) + " or one channel"; });
}

Tensor mean_of(const Tensor& sum, const Tensor& count) { return div(sum, clamp(count, 1.0, 1e300)); }

Tensor pointwise(PointwiseLoss kind, const char* name, const Tensor& x, const Tensor& target, const LossOptions& o) {
  require_defined(x, name, "prediction");
  require_defined(target, name, "target");
  require_float(x, name);
  require(target.shape() == x.shape() && target.dtype() == x.dtype(), name,
          [&] { return "target " + describe(target) + " must match the prediction " + describe(x); });
  require_compatible(x, target, name);
  check_pixel_tensor(x, o.weight, x.dtype(), name, "weight");
  check_pixel_tensor(x, o.mask, ScalarType::u8, name, "mask");
  Tensor sum = empty_like(x, Shape{}), count = empty_like(x, Shape{});
  const Tensor t = target.detach(), w = o.weight.defined() ? o.weight.detach() : Tensor(), m = o.mask;
  backend_of(x).pointwise_loss_forward(kind, x, t, w, m, sum, count);
  record(sum, name, {x}, [kind, x, t, w, m](const Tensor& g) {
    Tensor gx = empty_like(x);
    backend_of(x).pointwise_loss_backward(kind, x, t, w, m, g, gx);
    return std::vector<Tensor>{gx};
  });
  return mean_of(sum, count);
}

}  // namespace

Tensor mse_loss(const Tensor& p, const Tensor& t, const LossOptions& o) {
  return pointwise(PointwiseLoss::squared_error, "mse_loss", p, t, o);
}
Tensor l1_loss(const Tensor& p, const Tensor& t, const LossOptions& o) {
  return pointwise(PointwiseLoss::absolute_error, "l1_loss", p, t, o);
}
Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& t, const LossOptions& o) {
  return pointwise(PointwiseLoss::sigmoid_cross_entropy, "sigmoid_cross_entropy", logits, t, o);
}

Tensor softmax_cross_entropy(const Tensor& x, const Tensor& labels, const LossOptions& o) {
  const char* name = "softmax_cross_entropy";
  require_defined(x, name, "logits");
  require_defined(labels, name, "labels");
  require_float(x, name);
  require(x.rank() >= 2, name, [&] { return "logits must be (N, K, ...), got " + describe(x); });
  bool ok = labels.dtype() == ScalarType::i32 && labels.rank() == x.rank() && labels.size(1) == 1;
  for (int i = 0; ok && i < x.rank(); ++i) ok = i == 1 || labels.size(i) == x.size(i);
  require(ok, name, [&] { return "labels must be i32 (N, 1, ...) matching the logits " + describe(x) + ", got " + describe(labels); });
  require_compatible(x, labels, name);
  check_pixel_tensor(labels, o.weight, x.dtype(), name, "weight");
  check_pixel_tensor(labels, o.mask, ScalarType::u8, name, "mask");
  if (o.class_weight.defined())
    require(o.class_weight.rank() == 1 && o.class_weight.size(0) == x.size(1) && o.class_weight.dtype() == x.dtype(),
            name, [&] { return "class weights must be (" + std::to_string(x.size(1)) + "), got " + describe(o.class_weight); });
  Tensor sum = empty_like(x, Shape{}), count = empty_like(x, Shape{});
  const Tensor cw = o.class_weight.defined() ? o.class_weight.detach() : Tensor();
  const Tensor w = o.weight.defined() ? o.weight.detach() : Tensor(), m = o.mask;
  const int ignore = o.ignore_label;
  backend_of(x).softmax_cross_entropy_forward(x, labels, cw, w, m, ignore, sum, count);
  record(sum, name, {x}, [x, labels, cw, w, m, ignore](const Tensor& g) {
    Tensor gx = empty_like(x);
    backend_of(x).softmax_cross_entropy_backward(x, labels, cw, w, m, ignore, g, gx);
    return std::vector<Tensor>{gx};
  });
  return mean_of(sum, count);
}

Tensor dice_loss(const Tensor& p, const Tensor& t, const LossOptions& o, double smooth) {
  const char* name = "dice_loss";
  require_defined(p, name, "probabilities");
  require_float(p, name);
  require(t.defined() && t.shape() == p.shape() && t.dtype() == p.dtype(), name,
          [&] { return "target must match the probabilities " + describe(p); });
  check_pixel_tensor(p, o.weight, p.dtype(), name, "weight");
  check_pixel_tensor(p, o.mask, ScalarType::u8, name, "mask");
  Tensor w;
  if (o.weight.defined()) w = o.weight.detach();
  if (o.mask.defined()) w = w.defined() ? mul(w, o.mask.to(p.dtype())) : o.mask.to(p.dtype());
  const Tensor pw = w.defined() ? mul(p, w) : p;
  const Tensor tw = w.defined() ? mul(t.detach(), w) : t.detach();
  const Tensor intersection = sum(mul(pw, t.detach()));
  const Tensor denominator = add(add(sum(pw), sum(tw)), smooth);
  return rsub(1.0, div(add(mul(intersection, 2.0), smooth), denominator));
}

}  // namespace uniem::ops
