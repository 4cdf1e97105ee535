// Augmentation of training crops: what the network sees differs at every step, so a handful of
// painted sections go a long way (UNI-EM had flips only).
//
// Applied to one crop (image (C, P, P), target (T, P, P), square) in this order:
//   1. one of the 8 symmetries of the square (flips, 90-degree rotations, transposes), uniformly;
//   2. elastic deformation (Simard et al. 2003): displacements drawn N(0, elastic) pixels on a
//      grid of `elastic_spacing` pixels, interpolated bilinearly in between; the image is sampled
//      bilinearly and the target by nearest neighbour, mirrored at the crop border (core/image/border.h);
//   3. contrast and brightness: x -> (x - mean) * c + mean + b, c in [1 - contrast, 1 + contrast],
//      b in [-brightness, brightness], uniformly;
//   4. section defects, as EM stacks have them (Lee et al. 2017): with probability `defects` a
//      blacked-out region (a rectangle of up to half the crop, or a knife-mark stripe 2-16 pixels
//      wide across it) whose labels stay, so the network learns to bridge it; with probability
//      `missing` the whole section is black and its target background, so a missing section
//      predicts nothing rather than invented objects.
// All draws come from the Random passed in, so the same seed gives the same crops.
#pragma once

#include <cstdint>

#include "core/random.h"

namespace uniem::nn {

struct AugmentOptions {
  bool symmetries = true;
  double elastic = 2.0;          // displacement standard deviation in pixels; 0 turns it off
  int64_t elastic_spacing = 32;  // control-point spacing in pixels
  double contrast = 0.1;
  double brightness = 0.1;
  double defects = 0;            // probability of a blacked-out region
  double missing = 0;            // probability of a missing (black) section
};

void augment(float* image, int64_t channels, uint8_t* target, int64_t target_channels, int64_t size,
             const AugmentOptions& o, Random& random);

}  // namespace uniem::nn
