// Scores of a network's predictions against the targets of held-out sections, with the metrics of
// `uniem eval` (core/image/metrics.h), for the training log and the best-checkpoint choice.
//
// Predictions are thresholded (sigmoid-type losses) or the most probable class (softmax); ignored
// pixels are left out. Jaccard and Dice are the means over the foreground channels (binary: the
// one channel; multi-label: every channel; classes: every class but 0), pooled over the sections.
// For a binary target, V_rand (foreground-restricted, Arganda-Carreras et al. 2015) compares the
// 4-connected components of the predicted foreground with those of the true foreground in each
// section, averaged over sections: for membrane maps (foreground = cell interior) that is the
// score of the cells, for mitochondria that of the individual mitochondria. Predicted background
// inside a true object counts as one more segment, so thick predicted borders cost merges.
// v_rand_thinned scores the same components after they have grown over the predicted
// background (a 4-connected watershed on 1 - probability), which leaves borders one line thin:
// the ISBI 2012 challenge's "V_rand (thinned)", its ranking metric since 2015.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "nn/dataset.h"
#include "nn/losses.h"
#include "nn/tiled_inference.h"

namespace uniem::nn {

struct ValidationScores {
  double jaccard = 0, dice = 0, precision = 0, recall = 0;
  double v_rand = -1, v_rand_thinned = -1;  // binary targets only
  int64_t pixels = 0;
  nlohmann::json to_json() const;
};

// The predicted target (T, H, W) from probabilities (K, H, W).
std::vector<uint8_t> predicted_target(const LossConfig& loss, const std::vector<float>& probabilities, int64_t classes,
                                      int64_t pixels, double threshold);

ValidationScores validate(Network& network, const LossConfig& loss, const TargetMapping& mapping,
                          const std::vector<Section>& sections, const TileOptions& tiles, double threshold);

}  // namespace uniem::nn
