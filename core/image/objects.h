// Per-object measurements of a label volume: size, bounding box, centroid and, given an image
// of the same shape, mean intensity. One pass over the volume, run by run; objects sorted by id.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

struct ObjectStatistics {
  uint64_t id = 0;
  int64_t voxels = 0;
  std::array<int64_t, 3> min{}, max{};  // bounding box (z, y, x), inclusive, voxels
  std::array<double, 3> centroid{};     // (z, y, x), voxels
  double mean_intensity = 0;            // when an intensity image was given
};

// `intensity` may be null; otherwise it must have the shape of `labels` and one channel.
std::vector<ObjectStatistics> object_statistics(const Volume& labels, const Volume* intensity = nullptr);

}  // namespace uniem
