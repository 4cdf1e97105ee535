// The coarser levels of a multiscale pyramid, shared by the OME-Zarr and Neuroglancer precomputed
// writers: each level halves y and x (and z, while z is not coarser than x), down to 256 pixels
// or 8 levels in all. A level's voxel is the mean of its 2 x 2 (x 2) block (rounded for integers)
// for images, the most frequent value (the smallest of a tie) for label volumes, so that ids stay
// ids.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

// The levels of a volume's pyramid without computing them, for writers that go a slab at a time:
// each level's shape (z, y, x), voxel size, and the z factor from the level before (1 for level 0).
struct PyramidLevel {
  std::array<int64_t, 3> shape{};
  std::array<double, 3> scale{};
  int64_t fz = 1;
};
std::vector<PyramidLevel> pyramid_plan(const std::array<int64_t, 3>& shape, const VoxelSize& voxel_size);

// A pyramid written as its sections come, for the writers of chunked formats: each level gathers
// sections until it has whole rows of `depth` sections (a multiple of the next level's fz, or the
// level's whole depth), hands them to `write` and, made coarser, to the next level (a row starts
// at a multiple of fz, so it gives exactly the sections the whole volume gives there); finish() hands
// on what is left. `write(level, held, count, z0)`: the level's sections [z0, z0 + count), the
// first `count` sections of `held`. Memory: less than one row per level waits.
class PyramidStream {
 public:
  using Write = std::function<void(size_t level, const Volume& held, int64_t count, int64_t z0)>;
  PyramidStream(std::vector<PyramidLevel> plan, std::vector<int64_t> depths, bool labels, Write write);
  void append(const Volume& sections);
  void finish();  // checks that every level got all its sections

 private:
  void push(size_t level, const Volume& sections, bool last);
  std::vector<PyramidLevel> plan_;
  std::vector<int64_t> depths_, written_;
  std::vector<Volume> pending_;
  bool labels_;
  Write write_;
};

}  // namespace uniem
