#include "nn/losses.h"

#include "core/error.h"
#include "core/ops/ops.h"

namespace uniem::nn {
namespace {
const char* const kinds[] = {"square", "l1", "logistic", "sigmoid", "softmax", "dice"};

// Per-pixel class weight for the 0/1 targets: w0 where the target is 0, w1 where it is 1.
Tensor binary_weight(const LossConfig& loss, const Tensor& target) {
  if (loss.class_weights.empty()) return {};
  const double w0 = loss.class_weights[0], w1 = loss.class_weights[1];
  return ops::add(ops::mul(target, w1 - w0), w0);
}
}  // namespace

void LossConfig::validate(int64_t out_channels) const {
  bool known = false;
  for (const char* k : kinds) known = known || kind == k;
  if (!known) throw UsageError("--loss takes square, l1, logistic, sigmoid, softmax or dice, got '" + kind + "'");
  if (kind == "logistic" && out_channels != 1)
    throw UsageError("--loss logistic predicts one foreground channel; for several masks use --loss sigmoid");
  if (kind == "softmax" && out_channels < 2)
    throw UsageError("--loss softmax needs --classes 2 or more (background counts as a class)");
  const size_t expected = softmax() ? static_cast<size_t>(out_channels) : 2;
  if (!class_weights.empty() && class_weights.size() != expected)
    throw UsageError("--class-weights needs " + std::to_string(expected) + " values (" +
                     (softmax() ? "one per class" : "background,foreground") + "), got " +
                     std::to_string(class_weights.size()));
  for (double w : class_weights)
    if (!(w >= 0)) throw UsageError("--class-weights must be >= 0");
}

Tensor activation(const LossConfig& loss, const Tensor& logits) {
  return loss.softmax() ? ops::softmax(logits) : ops::sigmoid(logits);
}

Tensor training_loss(const LossConfig& loss, const Tensor& logits, const Tensor& target, const Tensor& mask) {
  ops::LossOptions o;
  o.mask = mask;
  if (loss.softmax()) {
    if (!loss.class_weights.empty()) {
      std::vector<float> w(loss.class_weights.begin(), loss.class_weights.end());
      o.class_weight = Tensor::from_vector(w, Shape{static_cast<int64_t>(w.size())}, logits.device());
    }
    return ops::softmax_cross_entropy(logits, target, o);
  }
  o.weight = binary_weight(loss, target);
  if (loss.kind == "square") return ops::mse_loss(ops::sigmoid(logits), target, o);
  if (loss.kind == "l1") return ops::l1_loss(ops::sigmoid(logits), target, o);
  if (loss.kind == "dice") return ops::dice_loss(ops::sigmoid(logits), target, o);
  return ops::sigmoid_cross_entropy(logits, target, o);
}

}  // namespace uniem::nn
