// The seeded watershed of a stack larger than memory: `uniem watershed --seeds-below` or
// `--markers` when the volume and its labels would not fit the memory budget.
//
// A watershed is not exactly decomposable (a basin may be flooded from far away), so the stack is
// cut into slabs of sections, each flooded with `overlap` more sections on each side (its window),
// and neighbouring slabs are stitched where their windows overlap, as upstream FFN reconciles its
// subvolumes: a region of one slab and a region of the next are one region when each is the
// other's largest partner in the overlap. Seeds are the slab window's own (components of the
// landscape below the level, or the --markers stack's ids in it); --seeds-below otsu takes Otsu's
// threshold of the whole stack, read once more in slabs (8 and 16-bit, or float32 in two reads).
// Pass 1 floods each window and joins the regions; pass 2 floods each again (the same windows give
// the same regions) and writes its own sections with the final ids: ids number the regions in the
// order of the slabs' seeds, which is not the order of a run in memory. Agreement with the run in
// memory is measured, not exact (tests/io/test_blockwise_watershed.cpp, bench/RESULTS.md).
// Memory: a window of landscape, seeds and labels, and the overlap of the window before.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "core/image/label.h"
#include "core/union_find.h"
#include "io/stack.h"

namespace uniem {

struct BlockwiseWatershedOptions {
  std::optional<double> seeds_below;           // a level, or
  bool seeds_below_otsu = false;               // Otsu's threshold of the stack, or
  std::filesystem::path markers;               // a stack of marker ids
  std::filesystem::path mask;                  // optional: flood only where it is nonzero
  Connectivity connectivity = Connectivity::c6;
  bool lines = false;
  int64_t slab_sections = 64, overlap = 8;
};

struct BlockwiseWatershedResult {
  int64_t regions = 0, slabs = 0;
  double level = 0;  // the seeds' level (--seeds-below)
};

// The steps of watershed_blockwise, for a cluster run that does each slab in its own task
// (apps/cluster/block_tasks.h): flood_window() and flooded_slab() in each task, RegionJoin once,
// flood_window() and final_regions() in each task again.
struct WatershedSlabs {
  int64_t nz = 0, sections = 64, overlap = 8;
  struct Window {
    int64_t z0, z1, a, b;  // the slab's own sections [z0, z1), flooded with [a, b)
  };
  int64_t count() const { return (nz + sections - 1) / sections; }
  Window window(int64_t k) const;
};

// The regions (uint32) of a window: seeded by the landscape below `level`, or by options.markers.
Volume flood_window(const std::filesystem::path& input, const ReadOptions& read, const BlockwiseWatershedOptions& options,
                    double level, const WatershedSlabs::Window& w);

// What a flooded slab hands on to the join: its region count, the regions in its own sections,
// and its labels on the sections it shares with the slab before (head) and after (tail).
struct FloodedSlab {
  uint32_t regions = 0;
  std::vector<uint32_t> shown;
  Volume head, tail;
};
FloodedSlab flooded_slab(const Volume& labels, const WatershedSlabs& slabs, int64_t k);

// Joins the regions of slabs given in order: the final id of each provisional id (a slab's region
// i is base + i), numbering the regions seen in the slabs' own sections in the order of the
// slabs' seeds; `count`: how many.
class RegionJoin {
 public:
  void add(const FloodedSlab& slab);
  std::vector<uint64_t> final_ids(int64_t* count);
  const std::vector<int64_t>& bases() const { return base_; }

 private:
  UnionFind<int64_t> sets_{1};  // provisional ids; 0: background
  std::vector<int64_t> base_;
  std::vector<bool> shown_{false};
  Volume tail_;
};

// The slab's own sections of its window's labels, with their final ids in `type` (with
// `final_id` empty: the labels as they are, the markers' ids).
Volume final_regions(const Volume& labels, const WatershedSlabs& slabs, int64_t k, const std::vector<uint64_t>& final_id,
                     int64_t base, DType type);

BlockwiseWatershedResult watershed_blockwise(const std::filesystem::path& input, const ReadOptions& read,
                                             const std::filesystem::path& output, const WriteOptions& write,
                                             const BlockwiseWatershedOptions& options);

// Otsu's threshold of a stack read in slabs: the value otsu_threshold gives the whole volume.
double stack_otsu_threshold(const std::filesystem::path& input, const ReadOptions& read, int64_t slab_sections);

}  // namespace uniem
