// Connected components of a stack larger than memory: `uniem label` when the volume and its
// labels would not fit the memory budget (core/memory_budget.h).
//
// The stack is read in slabs of whole sections, a few at a time (io/stack.h StackReader), and
// written a slab at a time (StackWriter). Pass 1 labels each slab (core/image/label.h), gives its
// components provisional ids in order, and joins, with union-find, the components that touch
// across the face between two slabs under the connectivity (equal values in label mode). A
// component's final id is the rank of its smallest provisional id, which is the raster order of its
// first voxel: exactly the numbers label_components gives the whole volume. Pass 2 reads and
// labels each slab again and writes it with the final ids, in the smallest type that holds them.
// Memory: a slab, the previous slab's last section, and one entry per provisional component.
// The same steps, one slab per task, are what a cluster run does (apps/cluster/block_tasks.h):
// slab_faces() in each task, ComponentJoin once, relabel_slab() in each task again.
#pragma once

#include <filesystem>
#include <vector>

#include "core/image/label.h"
#include "core/union_find.h"
#include "io/stack.h"

namespace uniem {

struct BlockwiseLabelResult {
  int64_t count = 0;    // components
  int64_t slabs = 0;    // slabs the stack was read in
  bool preserved = false;  // label mode (from `preserve`, or decided for "auto")
};

// `preserve`: 1 label mode, 0 binary, -1 auto (label mode for an integer volume that is no mask,
// decided in a first read of the stack). `slab_sections`: sections per slab (>= 1).
BlockwiseLabelResult label_blockwise(const std::filesystem::path& input, const ReadOptions& read, const std::filesystem::path& output,
                                     WriteOptions write, Connectivity connectivity, int preserve, int64_t slab_sections);

// What a slab hands on to the join: its component count and its first and last sections' local
// labels (uint32) and values (compared in label mode).
struct SlabFaces {
  int64_t count = 0;
  Volume first_labels, last_labels, first_values, last_values;
};
SlabFaces slab_faces(const Volume& slab, const LabelResult& local);

// Joins the components of slabs given in order across the faces between them.
class ComponentJoin {
 public:
  ComponentJoin(Connectivity connectivity, bool preserve);
  void add(const SlabFaces& slab);  // the slab after the one added before
  // The final id of each provisional id (a slab's local id i is provisional id base + i; 0 stays
  // 0): the rank of its component's first voxel in raster order, as label_components numbers the
  // whole volume. `count`: the components.
  std::vector<uint64_t> final_ids(int64_t* count);
  const std::vector<int64_t>& bases() const { return base_; }

 private:
  UnionFind<int64_t> sets_{1};  // provisional ids; 0: background
  std::vector<int64_t> base_;
  std::vector<std::pair<int, int>> offsets_;
  bool preserve_;
  SlabFaces last_;
};

// True when the stack holds at most one nonzero value (read slab by slab, stopping at a second):
// label mode's "auto" labels it as a mask.
bool stack_is_mask(const std::filesystem::path& input, const ReadOptions& read, int64_t slab_sections);

// The smallest type that holds `count` ids.
DType label_type(int64_t count);
// A slab's local labels with their final ids (`base`: the slab's provisional id of local id 0).
Volume relabel_slab(const LabelResult& local, const std::vector<uint64_t>& final_id, int64_t base, DType type);

// The sections per slab that keep a stack of `ny` x `nx` voxels of `item` bytes, its labels and
// their copies within `budget` bytes (at least 1).
int64_t label_slab_sections(int64_t ny, int64_t nx, size_t item, int64_t budget);

}  // namespace uniem
