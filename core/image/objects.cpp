#include "core/image/objects.h"

#include <algorithm>
#include <unordered_map>

namespace uniem {

std::vector<ObjectStatistics> object_statistics(const Volume& labels, const Volume* intensity) {
  if (!dtype_is_integer(labels.dtype()) || labels.channels() != 1)
    throw InputError("object statistics need a one-channel integer label volume");
  if (intensity && (intensity->shape() != labels.shape() || intensity->channels() != 1))
    throw InputError("the intensity image must have the label volume's shape and one channel");
  struct Sums {
    ObjectStatistics s;
    double z = 0, y = 0, x = 0, intensity = 0;
  };
  std::unordered_map<uint64_t, size_t> index;
  std::vector<Sums> sums;
  const int64_t nz = labels.nz(), ny = labels.ny(), nx = labels.nx();
  // Typed access: this scans every voxel, and the label run inside it every voxel again.
  visit_dtype(labels.dtype(), [&](auto type) {
    using T = decltype(type);
    if constexpr (std::is_integral_v<T>) {
      const T* d = labels.data<T>();
      for (int64_t z = 0; z < nz; ++z)
        for (int64_t y = 0; y < ny; ++y) {
          const int64_t row = (z * ny + y) * nx;
          for (int64_t x = 0; x < nx;) {
            const auto id = static_cast<uint64_t>(d[row + x]);
            int64_t end = x + 1;
            while (end < nx && static_cast<uint64_t>(d[row + end]) == id) ++end;
            if (id != 0) {
              auto [it, added] = index.emplace(id, sums.size());
              if (added) {
                Sums fresh;
                fresh.s.id = id;
                fresh.s.min = {z, y, x};
                fresh.s.max = {z, y, end - 1};
                sums.push_back(fresh);
              }
              Sums& o = sums[it->second];
              const double n = static_cast<double>(end - x);
              o.s.voxels += end - x;
              o.s.min = {std::min(o.s.min[0], z), std::min(o.s.min[1], y), std::min(o.s.min[2], x)};
              o.s.max = {std::max(o.s.max[0], z), std::max(o.s.max[1], y), std::max(o.s.max[2], end - 1)};
              o.z += static_cast<double>(z) * n;
              o.y += static_cast<double>(y) * n;
              o.x += static_cast<double>(x + end - 1) * n / 2;
              if (intensity)
                for (int64_t i = x; i < end; ++i) o.intensity += intensity->value(row + i);
            }
            x = end;
          }
        }
    }
  });

  std::vector<ObjectStatistics> out;
  out.reserve(sums.size());
  for (auto& o : sums) {
    const double n = static_cast<double>(o.s.voxels);
    o.s.centroid = {o.z / n, o.y / n, o.x / n};
    if (intensity) o.s.mean_intensity = o.intensity / n;
    out.push_back(o.s);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace uniem
