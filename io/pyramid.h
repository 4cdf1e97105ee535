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

// The levels of a volume's pyramid without computing them, for writers that go a slab at a time:
// each level's shape (z, y, x), voxel size, and the z factor from the level before (1 for level 0).
struct PyramidLevel {
  std::array<int64_t, 3> shape{};
  std::array<double, 3> scale{};
  int64_t fz = 1;
};
std::vector<PyramidLevel> pyramid_plan(const std::array<int64_t, 3>& shape, const VoxelSize& voxel_size);

// Sections [begin, end) of `v` (end -1: to its last) one level coarser: blocks of fz x 2 x 2
// voxels. A slab of sections starting at a multiple of fz gives exactly the sections that the whole
// volume gives there.
Volume coarser_level(const Volume& v, int64_t fz, bool labels, int64_t begin = 0, int64_t end = -1);

}  // namespace uniem
