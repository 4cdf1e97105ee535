#include "io/pyramid.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/threads.h"

namespace uniem {
namespace {

// One level coarser: blocks of fz x 2 x 2 voxels, their mean (rounded for integers) or, for
// labels, their most frequent value (the smallest of a tie).
// Sections [begin, end) of `v` (begin a multiple of fz), one level coarser.
Volume coarser(const Volume& v, int64_t fz, bool labels, int64_t begin, int64_t end) {
  Volume out(v.dtype(), (end - begin + fz - 1) / fz, (v.ny() + 1) / 2, (v.nx() + 1) / 2);
  visit_dtype(v.dtype(), [&](auto tag) {
    using T = decltype(tag);
    parallel_for(0, out.nz(), 1, [&](int64_t b, int64_t e) {
      for (int64_t z = b; z < e; ++z)
        for (int64_t y = 0; y < out.ny(); ++y)
          for (int64_t x = 0; x < out.nx(); ++x) {
            T values[8];
            int n = 0;
            for (int64_t dz = 0; dz < fz && begin + z * fz + dz < end; ++dz)
              for (int64_t dy = 0; dy < 2 && 2 * y + dy < v.ny(); ++dy)
                for (int64_t dx = 0; dx < 2 && 2 * x + dx < v.nx(); ++dx) values[n++] = v.at<T>(begin + z * fz + dz, 2 * y + dy, 2 * x + dx);
            T result{};
            if (labels) {
              for (int i = 1; i < n; ++i)  // insertion sort: at most 8 values
                for (int j = i; j > 0 && values[j] < values[j - 1]; --j) std::swap(values[j], values[j - 1]);
              int best = 0;
              for (int i = 0, run = 1; i < n; ++i, ++run) {
                if (i > 0 && values[i] != values[i - 1]) run = 1;
                if (run > best) best = run, result = values[i];
              }
            } else {
              double sum = 0;
              for (int i = 0; i < n; ++i) sum += static_cast<double>(values[i]);
              const double mean = sum / n;
              result = std::is_floating_point_v<T> ? static_cast<T>(mean) : static_cast<T>(std::llround(mean));
            }
            out.at<T>(z, y, x) = result;
          }
    });
  });
  return out;
}

}  // namespace

std::vector<PyramidLevel> pyramid_plan(const std::array<int64_t, 3>& shape, const VoxelSize& vs) {
  std::vector<PyramidLevel> plan{{shape, {vs.z, vs.y, vs.x}, 1}};
  while (plan.size() < 8 && std::max(plan.back().shape[1], plan.back().shape[2]) > 256) {
    const PyramidLevel& last = plan.back();
    const auto& s = last.scale;
    const int64_t fz = last.shape[0] > 1 && s[0] <= s[2] ? 2 : 1;  // z is halved while it is not coarser than x
    plan.push_back({{(last.shape[0] + fz - 1) / fz, (last.shape[1] + 1) / 2, (last.shape[2] + 1) / 2},
                    {s[0] * static_cast<double>(fz), s[1] * 2, s[2] * 2}, fz});
  }
  return plan;
}

PyramidStream::PyramidStream(std::vector<PyramidLevel> plan, std::vector<int64_t> depths, bool labels, Write write)
    : plan_(std::move(plan)), depths_(std::move(depths)), written_(plan_.size(), 0), pending_(plan_.size()), labels_(labels),
      write_(std::move(write)) {}

void PyramidStream::push(size_t i, const Volume& v, bool last) {
  // The level's next sections: what waits, then `v`; joined (a copy) only while something waits,
  // which is less than one row.
  Volume joined;
  Volume& pending = pending_[i];
  if (pending.nz() > 0 && v.nz() > 0) {
    joined = Volume::uninitialized(v.dtype(), pending.nz() + v.nz(), v.ny(), v.nx());
    joined.voxel_size = v.voxel_size;
    std::memcpy(joined.raw(), pending.raw(), pending.bytes());
    std::memcpy(joined.raw_slice(pending.nz()), v.raw(), v.bytes());
  }
  const Volume& next = joined.nz() > 0 ? joined : pending.nz() > 0 ? pending : v;
  const int64_t ready = last ? next.nz() : next.nz() / depths_[i] * depths_[i];  // whole rows; at the end, the rest
  Volume coarse;
  if (ready > 0) {
    write_(i, next, ready, written_[i]);
    written_[i] += ready;
    if (i + 1 < plan_.size()) coarse = coarser(next, plan_[i + 1].fz, labels_, 0, ready);
  }
  Volume rest = Volume::uninitialized(next.dtype(), next.nz() - ready, next.ny(), next.nx());
  if (rest.nz() > 0) std::memcpy(rest.raw(), next.raw_slice(ready), rest.bytes());
  rest.voxel_size = next.voxel_size;
  pending = std::move(rest);
  if (i + 1 < plan_.size() && (ready > 0 || last)) push(i + 1, coarse, last);
}

void PyramidStream::append(const Volume& sections) {
  if (sections.nz() > 0) push(0, sections, false);
}

void PyramidStream::finish() {
  push(0, Volume(), true);
  for (size_t i = 0; i < plan_.size(); ++i)
    UNIEM_CHECK(written_[i] == plan_[i].shape[0], "PyramidStream: level " + std::to_string(i) + " got " + std::to_string(written_[i]) +
                                                       " of " + std::to_string(plan_[i].shape[0]) + " sections");
}

}  // namespace uniem
