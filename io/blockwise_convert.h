// Converting a stack larger than memory: `uniem convert` when the volume would not fit the memory
// budget. Sections are read a slab at a time (io/stack.h StackReader, any input format), cut to
// the --crop box, changed in depth when asked (exactly, or clipped: value by value, so slab by slab
// gives the same voxels), and written as they come (StackWriter). Conversions that need the whole
// volume (--scale maps its min..max, --relabel numbers its ids) are refused by name.
#pragma once

#include <array>
#include <filesystem>
#include <optional>

#include "core/image/convert.h"
#include "io/stack.h"

namespace uniem {

struct ConvertBox {
  std::array<int64_t, 3> origin{}, size{};  // z, y, x
};

struct BlockwiseConvertResult {
  int64_t slabs = 0, nz = 0, ny = 0, nx = 0;
  DType dtype = DType::u8;
};

// `bits`: the new depth, with `policy` exact or clip (scale is refused).
BlockwiseConvertResult convert_blockwise(const std::filesystem::path& input, const ReadOptions& read, const std::filesystem::path& output,
                                         const WriteOptions& write, std::optional<ConvertBox> box, std::optional<DType> bits,
                                         DepthPolicy policy, int64_t slab_sections);

}  // namespace uniem
