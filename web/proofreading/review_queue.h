// The review queue: which segments of a label volume a proofreader should look at, and why.
//
// A scan of the labels (scan_segments, one pass over the voxels a section at a time, O(voxels)
// time, O(segments x runs) memory besides one section) gives each segment its voxels, its bounding box and the runs of consecutive
// sections that hold it. From these, review_candidates lists a segment when it is
//   large   more than `large_factor` (10) times the median segment: perhaps two or more cells
//           merged;
//   small   fewer voxels than `small_below` (by default a tenth of the median segment): a
//           fragment that was cut off a neighbour, or debris to delete;
//   gap     held by sections z1 and z3 but not by z2 between them: perhaps one id given to two
//           objects, or a piece of it lost on the sections between;
//   edge    at the edge only: every voxel within `rim` voxels of one side of the sections (the
//           same side), or only in the first or the last section of a volume of more than one:
//           mostly outside the volume, so whether it is a real piece or a sliver of a neighbour
//           must be judged by eye.
// The median is that of all segments' voxel counts (the lower middle one for an even count).
// A segment with several reasons is listed once, with all of them. The order is the order of
// the reasons above, of its first reason (largest first among the large ones; by rising id otherwise).
// Each candidate carries a voxel to show it at: for a gap, one on the last section before the
// gap; otherwise none (the page asks where the segment is, Session::locate).
// The checked state and the markers, which live in the session's values, are added by
// Session::review (session.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/image/volume.h"

namespace uniem::web {

struct SegmentShape {
  int64_t voxels = 0;
  std::array<int64_t, 6> box{INT64_MAX, INT64_MAX, INT64_MAX, -1, -1, -1};  // z0, y0, x0, z1, y1, x1 (ends excluded)
  // Sections z0..z1 (both included) all hold it; (y, x) is a voxel of it on section z1.
  struct Run {
    int64_t z0, z1, y, x;
  };
  std::vector<Run> runs;  // rising z, separated by the sections that do not hold it
};

// Every segment (non-zero id) of a volume of `shape` (nz, ny, nx), read a section at a time:
// section(z) gives section z as ny x nx uint32 ids, x fastest, valid until the next call.
std::map<uint32_t, SegmentShape> scan_segments(const std::array<int64_t, 3>& shape,
                                               const std::function<const uint32_t*(int64_t z)>& section);
// The same of a uint32 label volume in memory.
std::map<uint32_t, SegmentShape> scan_segments(const Volume& labels);

struct ReviewRules {
  int64_t small_below = 0;    // voxels; 0: a tenth of the median (at least 2)
  double large_factor = 10;   // times the median
  int64_t rim = 0;            // voxels; 0: a fortieth of the smaller side of a section, 2 to 16
};

// {"median", "small_below", "large_above", "rim", "candidates": [{"id", "voxels", "reasons":
// [{"why": "small"|"large"|"gap"|"edge", "text"}], "z", "y", "x" (a gap's place; else absent)}]}.
// `shape`: the volume's (nz, ny, nx).
nlohmann::json review_candidates(const std::map<uint32_t, SegmentShape>& segments, const std::array<int64_t, 3>& shape,
                                 ReviewRules rules);

}  // namespace uniem::web
