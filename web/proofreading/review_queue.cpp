#include "web/proofreading/review_queue.h"

#include <algorithm>
#include <string>

using nlohmann::json;

namespace uniem::web {

std::map<uint32_t, SegmentShape> scan_segments(const std::array<int64_t, 3>& shape,
                                               const std::function<const uint32_t*(int64_t z)>& section) {
  std::map<uint32_t, SegmentShape> segments;
  const int64_t ny = shape[1], nx = shape[2];
  for (int64_t z = 0; z < shape[0]; ++z) {
    const uint32_t* p = section(z);
    // Runs of one id along x are common: the segment is looked up once per run.
    for (int64_t y = 0, k = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx;) {
        const uint32_t id = p[k];
        int64_t end = x + 1;
        while (end < nx && p[k + end - x] == id) ++end;
        if (id) {
          SegmentShape& s = segments[id];
          s.voxels += end - x;
          const int64_t lo[3] = {z, y, x}, hi[3] = {z + 1, y + 1, end};
          for (int a = 0; a < 3; ++a) {
            s.box[a] = std::min(s.box[a], lo[a]);
            s.box[3 + a] = std::max(s.box[3 + a], hi[a]);
          }
          if (s.runs.empty() || s.runs.back().z1 < z - 1)
            s.runs.push_back({z, z, y, x});
          else if (s.runs.back().z1 == z - 1)
            s.runs.back() = {s.runs.back().z0, z, y, x};
        }
        k += end - x;
        x = end;
      }
  }
  return segments;
}

std::map<uint32_t, SegmentShape> scan_segments(const Volume& labels) {
  UNIEM_CHECK(labels.dtype() == DType::u32, "scan_segments: the labels must be uint32");
  const int64_t area = labels.ny() * labels.nx();
  return scan_segments({labels.nz(), labels.ny(), labels.nx()},
                       [&](int64_t z) { return labels.data<uint32_t>() + z * area; });
}

json review_candidates(const std::map<uint32_t, SegmentShape>& segments, const std::array<int64_t, 3>& shape,
                       ReviewRules rules) {
  std::vector<int64_t> sizes;
  for (const auto& [id, s] : segments) sizes.push_back(s.voxels);
  std::sort(sizes.begin(), sizes.end());
  const int64_t median = sizes.empty() ? 0 : sizes[(sizes.size() - 1) / 2];
  const int64_t small_below = rules.small_below > 0 ? rules.small_below : std::max<int64_t>(2, median / 10);
  const int64_t large_above = static_cast<int64_t>(rules.large_factor * static_cast<double>(median));
  const int64_t rim = rules.rim > 0 ? rules.rim : std::clamp<int64_t>(std::min(shape[1], shape[2]) / 40, 2, 16);
  const auto count = [](int64_t n, const char* one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };

  struct Candidate {
    int order;  // the first reason's place among large, small, gap, edge (see the header)
    uint32_t id;
    int64_t voxels;
    json item;
  };
  std::vector<Candidate> found;
  for (const auto& [id, s] : segments) {
    json reasons = json::array(), item{{"id", id}, {"voxels", s.voxels}};
    int order = 4;
    if (median > 0 && s.voxels > large_above) {
      reasons.push_back({{"why", "large"}, {"text", "much larger than the others: " + count(s.voxels, "voxel") + ", " +
                                                        std::to_string(s.voxels / median) + " times the median (" +
                                                        std::to_string(median) + "); perhaps cells merged"}});
      order = std::min(order, 0);
    }
    if (s.voxels < small_below) {
      reasons.push_back({{"why", "small"}, {"text", "small fragment: " + count(s.voxels, "voxel") + ", fewer than " +
                                                        std::to_string(small_below) + "; part of a neighbour, or debris"}});
      order = std::min(order, 1);
    }
    for (size_t k = 1; k < s.runs.size(); ++k) {
      const auto& before = s.runs[k - 1];
      const int64_t first = before.z1 + 1, last = s.runs[k].z0 - 1;
      std::string missing = first == last ? "section " + std::to_string(first)
                                          : "sections " + std::to_string(first) + " to " + std::to_string(last);
      if (k == 1) {
        reasons.push_back({{"why", "gap"}, {"text", "gap: missing in " + missing + ", present in sections " + std::to_string(before.z1) +
                                                        " and " + std::to_string(s.runs[k].z0) +
                                                        (s.runs.size() > 2 ? " (and " + count(static_cast<int64_t>(s.runs.size()) - 2, "more gap") + ")" : "") +
                                                        "; two objects with one id, or a piece lost"}});
        item.update({{"z", before.z1}, {"y", before.y}, {"x", before.x}});
        order = std::min(order, 2);
      }
    }
    const auto& b = s.box;
    const char* side = b[5] <= rim ? "left" : b[2] >= shape[2] - rim ? "right" : b[4] <= rim ? "top" : b[1] >= shape[1] - rim ? "bottom" : nullptr;
    const bool first = shape[0] > 1 && b[3] == 1, last = shape[0] > 1 && b[0] == shape[0] - 1;
    if (side || first || last) {
      const std::string where = side ? std::string("within ") + std::to_string(rim) + " voxels of the " + side + " side of the sections"
                                     : first ? "only in the first section" : "only in the last section";
      reasons.push_back({{"why", "edge"}, {"text", "at the edge only: " + where + "; mostly outside the volume, judge by eye"}});
      order = std::min(order, 3);
    }
    if (reasons.empty()) continue;
    item["reasons"] = std::move(reasons);
    found.push_back({order, id, s.voxels, std::move(item)});
  }
  std::stable_sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.order != b.order) return a.order < b.order;
    if (a.order == 0 && a.voxels != b.voxels) return a.voxels > b.voxels;
    return a.id < b.id;
  });
  json candidates = json::array();
  for (auto& c : found) candidates.push_back(std::move(c.item));
  return json{{"median", median}, {"small_below", small_below}, {"large_above", large_above}, {"rim", rim},
              {"candidates", std::move(candidates)}};
}

}  // namespace uniem::web
