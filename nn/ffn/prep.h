// FFN training data: where to centre training examples (upstream compute_partitions.py and
// build_coordinates.py, one step here).
//
// Objects smaller than min_size voxels are dropped (their voxels become background). For every
// voxel at least `radius` from the border, the fraction of the (2r + 1)^3 box around it that
// belongs to the voxel's own object ("local object mask" fraction) is binned by the thresholds
// into classes 1..T+1 (background voxels are class 0; the border band is 255, unused). Training
// coordinates are voxels at least `margin` from the border, balanced over the classes: every
// class contributes the same number (the largest class's count, capped so the total stays under
// max_coordinates), drawn without repetition where the class is big enough and cycled where it
// is small, then shuffled. Several volumes are pooled. Deterministic for a seed.
//
// Defaults follow the network: radius and margin are its example radius (fov / 2 + deltas, per
// axis), so a sparse-z model does not lose the z border a fixed 24 would.
#pragma once

#include <vector>

#include "core/image/volume.h"
#include "nn/ffn/model.h"

namespace uniem::nn::ffn {

struct PrepOptions {
  Zyx radius{24, 24, 24};
  Zyx margin{24, 24, 24};
  std::vector<double> thresholds{0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  int64_t min_size = 10000;
  int64_t max_coordinates = 1000000;
  uint64_t seed = 1;
};

// Class per voxel (uint8), as above. Throws InputError (naming `where`) when no object is left.
Volume object_mask_classes(const Volume& labels, const PrepOptions& o, const std::string& where);

struct Coordinate {
  int32_t volume, z, y, x;
};

struct Coordinates {
  std::vector<Coordinate> coordinates;
  std::vector<int64_t> class_voxels;  // per class, over all volumes (index 0..T+1)
};

Coordinates sample_coordinates(const std::vector<Volume>& classes, const PrepOptions& o);

}  // namespace uniem::nn::ffn
