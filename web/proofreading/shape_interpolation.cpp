#include "web/proofreading/shape_interpolation.h"

#include <algorithm>

#include "core/error.h"
#include "core/image/distance.h"
#include "core/threads.h"

namespace uniem::web {

Volume interpolate_masks(const Volume& first, const Volume& last, int64_t gaps) {
  UNIEM_CHECK(first.dtype() == DType::u8 && last.dtype() == DType::u8 && first.nz() == 1 && last.nz() == 1 &&
                  first.ny() == last.ny() && first.nx() == last.nx() && gaps >= 0,
              "interpolate_masks: two uint8 sections of one size");
  const int64_t ny = first.ny(), nx = first.nx(), py = ny + 2, px = nx + 2;
  // Sections 0 and 1: the first mask and its outside; 2 and 3: the last mask and its outside; a
  // ring of outside around each, so that a mask touching the edge of the box is exact.
  Volume parts(DType::u8, 4, py, px);
  bool any[2] = {false, false};
  for (int m = 0; m < 2; ++m) {
    const Volume& mask = m == 0 ? first : last;
    for (int64_t y = 0; y < py; ++y)
      for (int64_t x = 0; x < px; ++x) {
        const bool in = y > 0 && y <= ny && x > 0 && x <= nx && mask.at<uint8_t>(0, y - 1, x - 1) != 0;
        parts.at<uint8_t>(2 * m, y, x) = in;
        parts.at<uint8_t>(2 * m + 1, y, x) = !in;
        any[m] |= in;
      }
  }
  UNIEM_CHECK(any[0] && any[1], "interpolate_masks: each mask needs a voxel inside");
  const Volume d = distance_transform(parts, VoxelSize{}, /*sections_only=*/true);
  // The signed distances of the box (without the ring), positive inside.
  std::vector<float> s[2];
  for (int m = 0; m < 2; ++m) {
    s[m].resize(static_cast<size_t>(ny * nx));
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const float inside = d.at<float>(2 * m, y + 1, x + 1), outside = d.at<float>(2 * m + 1, y + 1, x + 1);
        s[m][static_cast<size_t>(y * nx + x)] = inside > 0 ? inside - 0.5f : -(outside - 0.5f);
      }
  }
  Volume out(DType::u8, gaps, ny, nx);
  parallel_for(0, gaps * ny, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t k = row / ny, y = row % ny;
      const float t = static_cast<float>(k + 1) / static_cast<float>(gaps + 1);
      const float* a = s[0].data() + y * nx;
      const float* b = s[1].data() + y * nx;
      uint8_t* o = out.data<uint8_t>() + row * nx;
      for (int64_t x = 0; x < nx; ++x) o[x] = (1 - t) * a[x] + t * b[x] > 0;
    }
  });
  return out;
}

}  // namespace uniem::web
