// The training losses of the 2D networks, by the names UNI-EM's panel uses, and the activation that
// turns a network's logits into the probabilities inference writes.
//
//   square    least squares between sigmoid(logits) and the 0/1 target (UNI-EM's default)
//   l1        absolute difference between sigmoid(logits) and the target (UNI-EM's "hinge")
//   logistic  binary cross-entropy of sigmoid(logits), one foreground channel
//   sigmoid   the same per channel: K independent foreground masks (multi-label)
//   softmax   softmax cross-entropy over K classes (multi-class, one class per pixel)
//   dice      soft Dice loss of sigmoid(logits) (Milletari et al. 2016), per batch over all channels
//
// Targets (nn/dataset.h): K channels of 0/1 for every loss but softmax, which takes one class
// index per pixel. Pixels marked ignored add nothing. Class weights scale each pixel's loss by
// the weight of its class (background, foreground for the sigmoid-type losses; one per class for
// softmax), to counter rare foreground.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace uniem::nn {

struct LossConfig {
  std::string kind = "square";
  std::vector<double> class_weights;  // empty: all 1

  bool softmax() const { return kind == "softmax"; }
  // Throws UsageError for an unknown kind or weights that do not fit K output channels.
  void validate(int64_t out_channels) const;
};

// logits (N, K, H, W) -> probabilities: softmax over K for softmax, else sigmoid.
Tensor activation(const LossConfig& loss, const Tensor& logits);

// target: f32 (N, K, H, W) of 0/1, or i32 (N, 1, H, W) of classes for softmax; mask: u8 (N, 1, H,
// W), 0 for ignored pixels. Returns the scalar loss (mean over counted pixels).
Tensor training_loss(const LossConfig& loss, const Tensor& logits, const Tensor& target, const Tensor& mask);

}  // namespace uniem::nn
