// Filtering a stack larger than memory: `uniem filter` when the volume and the filters' working
// copies would not fit the memory budget (core/memory_budget.h).
//
// The stack is read in slabs of whole sections, each with the sections before and after it that
// the steps reach in z (core/image/filter_steps.h filter_step_z_reach, summed over the steps); the
// steps run on the slab with its margins, and the slab's own sections are written
// (io/stack.h StackWriter). At the ends of the stack the margins stop where the volume does, so
// the borders are treated as in a run on the whole volume: the output is identical to it. Steps
// that need the whole volume (otsu, normalise, distance, fill-holes, remove-small) are refused
// with their name.
#pragma once

#include <filesystem>
#include <vector>

#include "core/image/filter_steps.h"
#include "io/stack.h"

namespace uniem {

struct BlockwiseFilterResult {
  int64_t slabs = 0, margin = 0;  // slabs read, sections read on each side of a slab
  DType dtype = DType::u8;        // what the steps gave
};

// The sections the steps reach on each side, or -1 when one of them needs the whole volume
// (`whole_step` then names it).
int64_t filter_z_margin(const std::vector<ParsedFilterStep>& steps, const VoxelSize& vs, bool three_d, DType input, std::string* whole_step);

// Sections [z0, z1) of the filtered stack, read with `margin` sections on each side (as far as the
// stack goes): one slab of filter_blockwise, for a cluster task (apps/cluster/block_tasks.h).
Volume filter_sections(const std::filesystem::path& input, const ReadOptions& read, const std::vector<ParsedFilterStep>& steps,
                       bool three_d, int64_t margin, int64_t z0, int64_t z1);

BlockwiseFilterResult filter_blockwise(const std::filesystem::path& input, const ReadOptions& read, const std::filesystem::path& output,
                                       const WriteOptions& write, const std::vector<ParsedFilterStep>& steps, bool three_d,
                                       int64_t slab_sections);

}  // namespace uniem
