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
#pragma once

#include <filesystem>

#include "core/image/label.h"
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

// The sections per slab that keep a stack of `ny` x `nx` voxels of `item` bytes, its labels and
// their copies within `budget` bytes (at least 1).
int64_t label_slab_sections(int64_t ny, int64_t nx, size_t item, int64_t budget);

}  // namespace uniem
