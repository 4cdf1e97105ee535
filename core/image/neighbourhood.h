// The neighbours of a voxel under a connectivity (core/image/label.h), for the algorithms that
// walk from voxel to voxel: the watershed flood, morphological reconstruction, region merging.
// 4/8 stay in the section; 6/18/26 reach the sections above and below. Voxels at the volume's
// border simply have fewer neighbours.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/image/label.h"

namespace uniem {

class Neighbourhood {
 public:
  // Which neighbours: all, or only those before (after) the voxel in raster order, for scans.
  enum Half { all, before, after };

  Neighbourhood(Connectivity c, int64_t nz, int64_t ny, int64_t nx) : nz_(nz), ny_(ny), nx_(nx), flat_(connectivity_is_2d(c)) {
    const int limit = c == Connectivity::c4 || c == Connectivity::c6 ? 1 : c == Connectivity::c18 ? 2 : 3;
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int order = std::abs(dz) + std::abs(dy) + std::abs(dx);
          if (order == 0 || order > limit || (flat_ && dz != 0)) continue;
          offsets_.push_back({dz, dy, dx, (dz * ny + dy) * nx + dx});
        }
  }

  // Whether every neighbour of (z, y, x) is inside the volume.
  bool interior(int64_t z, int64_t y, int64_t x) const {
    return x > 0 && x < nx_ - 1 && y > 0 && y < ny_ - 1 && (flat_ || (z > 0 && z < nz_ - 1));
  }

  // fn(q) for every neighbour of an interior voxel i: no bounds to check, no index division.
  template <class F>
  void for_each_interior(int64_t i, F&& fn) const {
    for (const Offset& o : offsets_) fn(i + o.linear);
  }

  // The offsets of the rows the neighbourhood touches (its own row included): one per (dz, dy).
  std::vector<int64_t> row_offsets() const {
    std::vector<int64_t> rows{0};
    for (const Offset& o : offsets_) {
      const int64_t r = o.linear - o.dx;
      if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
    }
    return rows;
  }

  // Calls fn(q) for the index q of every neighbour of voxel i (inside the volume) in `half`.
  template <class F>
  void for_each(int64_t i, F&& fn, Half half = all) const {
    const int64_t z = i / (ny_ * nx_), y = (i / nx_) % ny_, x = i % nx_;
    const bool inside = interior(z, y, x);
    for (const Offset& o : offsets_) {
      if ((half == before && o.linear > 0) || (half == after && o.linear < 0)) continue;
      if (!inside) {
        const int64_t qz = z + o.dz, qy = y + o.dy, qx = x + o.dx;
        if (qz < 0 || qy < 0 || qx < 0 || qz >= nz_ || qy >= ny_ || qx >= nx_) continue;
      }
      fn(i + o.linear);
    }
  }

 private:
  struct Offset {
    int dz, dy, dx;
    int64_t linear;
  };
  int64_t nz_, ny_, nx_;
  bool flat_;
  std::vector<Offset> offsets_;
};

}  // namespace uniem
