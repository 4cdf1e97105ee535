// The coarser levels of a multiscale pyramid, shared by the OME-Zarr and Neuroglancer precomputed
// writers: each level halves y and x (and z, while z is not coarser than x), down to 256 pixels
// or 8 levels in all. A level's voxel is the mean of its 2 x 2 (x 2) block (rounded for integers)
// for images, the most frequent value (the smallest of a tie) for label volumes, so that ids stay
// ids.
#pragma once

#include <array>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

struct Pyramid {
  std::vector<Volume> levels;                  // level 1, 2, ...; level 0 is the volume itself
  std::vector<std::array<double, 3>> scales;   // voxel size (z, y, x) of level 0, 1, ...
};

Pyramid make_pyramid(const Volume& v, bool labels);

}  // namespace uniem
