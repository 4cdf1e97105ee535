// Session::Change, the voxel writes of one operation (internal to web/proofreading/session*.cpp).
#pragma once

#include <array>
#include <map>
#include <vector>

#include "web/proofreading/session.h"

namespace uniem::web {

// The voxel writes of one operation: touched chunks are copied on first write, and the box of
// changes in each is tracked, so that the journal record holds only that box.
class Session::Change {
 public:
  explicit Change(const Session& s) : s_(s), chunk_(s.project_.info().label_chunk) {}

  uint32_t get(int64_t z, int64_t y, int64_t x) {
    find(z, y, x);
    const Volume& v = at_.edit ? at_.edit->after : *at_.chunk;
    return v.at<uint32_t>(z - at_.lo[0], y - at_.lo[1], x - at_.lo[2]);
  }

  void set(int64_t z, int64_t y, int64_t x, uint32_t value) {
    find(z, y, x);
    const std::array<int64_t, 3> p{z - at_.lo[0], y - at_.lo[1], x - at_.lo[2]};
    if (!at_.edit) {
      const Volume& c = *at_.chunk;
      if (c.at<uint32_t>(p[0], p[1], p[2]) == value) return;
      at_.edit = &edits_.emplace(at_.index, Edit{c, {c.nz(), c.ny(), c.nx()}, {0, 0, 0}}).first->second;
    }
    Edit& e = *at_.edit;
    e.after.at<uint32_t>(p[0], p[1], p[2]) = value;
    for (int a = 0; a < 3; ++a) {
      e.lo[a] = std::min(e.lo[a], p[a]);
      e.hi[a] = std::max(e.hi[a], p[a] + 1);
    }
  }

  std::vector<VoxelDiff> diffs() const {
    std::vector<VoxelDiff> out;
    const ChunkStore& store = s_.project_.labels();
    for (const auto& [i, e] : edits_) {
      if (e.hi[0] <= e.lo[0]) continue;
      const auto o = store.origin(i);
      const Volume& before = s_.chunk(i);
      VoxelDiff d;
      d.origin = {o[0] + e.lo[0], o[1] + e.lo[1], o[2] + e.lo[2]};
      d.size = {e.hi[0] - e.lo[0], e.hi[1] - e.lo[1], e.hi[2] - e.lo[2]};
      bool any = false;
      for (int64_t z = e.lo[0]; z < e.hi[0]; ++z)
        for (int64_t y = e.lo[1]; y < e.hi[1]; ++y)
          for (int64_t x = e.lo[2]; x < e.hi[2]; ++x) {
            const uint32_t b = before.at<uint32_t>(z, y, x), a = e.after.at<uint32_t>(z, y, x);
            d.before.push_back(b);
            d.after.push_back(a);
            any |= a != b;
          }
      if (any) out.push_back(std::move(d));
    }
    return out;
  }

 private:
  struct Edit {
    Volume after;
    std::array<int64_t, 3> lo, hi;
  };
  // The chunk of the last voxel asked for: the next one is mostly in it too (a copy or an
  // interpolation gets and sets millions of voxels row by row, bench/web).
  struct At {
    int64_t index = -1;
    std::array<int64_t, 3> lo{}, hi{};  // the chunk's voxels
    const Volume* chunk = nullptr;      // as it is before this change
    Edit* edit = nullptr;               // its copy, once written
  };
  void find(int64_t z, int64_t y, int64_t x) {
    if (at_.index >= 0 && z >= at_.lo[0] && z < at_.hi[0] && y >= at_.lo[1] && y < at_.hi[1] && x >= at_.lo[2] && x < at_.hi[2])
      return;
    at_.index = s_.project_.labels().index_of(z / chunk_[0], y / chunk_[1], x / chunk_[2]);
    at_.lo = {z / chunk_[0] * chunk_[0], y / chunk_[1] * chunk_[1], x / chunk_[2] * chunk_[2]};
    for (int a = 0; a < 3; ++a) at_.hi[a] = at_.lo[a] + chunk_[a];
    at_.chunk = &s_.chunk(at_.index);
    const auto it = edits_.find(at_.index);
    at_.edit = it != edits_.end() ? &it->second : nullptr;
  }
  const Session& s_;
  std::array<int64_t, 3> chunk_;
  std::map<int64_t, Edit> edits_;
  At at_;
};

}  // namespace uniem::web
