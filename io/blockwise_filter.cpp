#include "io/blockwise_filter.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"

namespace fs = std::filesystem;

namespace uniem {

int64_t filter_z_margin(const std::vector<ParsedFilterStep>& steps, const VoxelSize& vs, bool three_d, DType input, std::string* whole_step) {
  bool is_float = input == DType::f32;
  int64_t margin = 0;
  for (const auto& s : steps) {
    const int64_t reach = filter_step_z_reach(s, vs, three_d, is_float);
    if (reach < 0) {
      if (whole_step) *whole_step = s.name;
      return -1;
    }
    margin += reach;
  }
  return margin;
}

namespace {

// The steps run on `window` (sections [a, ...) of the stack); its sections [z0, z1) come out.
Volume filtered_core(Volume v, int64_t a, int64_t z0, int64_t z1, const std::vector<ParsedFilterStep>& steps, bool three_d) {
  for (const auto& s : steps) v = apply_filter_step(s, v, three_d);
  Volume core = Volume::uninitialized(v.dtype(), z1 - z0, v.ny(), v.nx(), v.channels());
  core.voxel_size = v.voxel_size;
  std::memcpy(core.raw(), v.raw_slice(z0 - a), core.bytes());
  return core;
}

}  // namespace

Volume filter_sections(const fs::path& input, const ReadOptions& read, const std::vector<ParsedFilterStep>& steps, bool three_d,
                       int64_t margin, int64_t z0, int64_t z1) {
  StackReader reader(input, read);
  const int64_t a = std::max<int64_t>(0, z0 - margin), b = std::min(reader.nz(), z1 + margin);
  reader.seek(a);
  Volume window = reader.next(b - a);
  window.voxel_size = reader.voxel_size();
  return filtered_core(std::move(window), a, z0, z1, steps, three_d);
}

BlockwiseFilterResult filter_blockwise(const fs::path& input, const ReadOptions& read, const fs::path& output, const WriteOptions& write,
                                       const std::vector<ParsedFilterStep>& steps, bool three_d, int64_t slab_sections) {
  StackReader reader(input, read);
  const int64_t nz = reader.nz();
  std::string whole;
  const int64_t h = filter_z_margin(steps, reader.voxel_size(), three_d, reader.dtype(), &whole);
  if (h < 0) throw InputError(input, "--" + whole + " needs the whole volume at once, which is larger than the memory limit; give more --memory");
  slab_sections = std::max<int64_t>(1, slab_sections);
  BlockwiseFilterResult result;
  result.margin = h;
  Volume window;  // sections [a, b) of the stack
  int64_t a = 0, b = 0;
  std::unique_ptr<StackWriter> writer;
  Progress progress("filtering " + input.filename().string() + " in slabs", nz);
  for (int64_t z0 = 0; z0 < nz; z0 += slab_sections) {
    const int64_t z1 = std::min(nz, z0 + slab_sections), na = std::max<int64_t>(0, z0 - h), nb = std::min(nz, z1 + h);
    // The sections the last window shares with this one are kept; the rest are read.
    Volume next = Volume::uninitialized(reader.dtype(), nb - na, reader.ny(), reader.nx(), reader.channels());
    next.voxel_size = reader.voxel_size();
    if (b > na) std::memcpy(next.raw(), window.raw_slice(na - a), static_cast<size_t>(next.raw_slice(b - na) - next.raw()));
    const Volume more = reader.next(nb - std::max(b, na));
    if (!more.empty()) std::memcpy(next.raw_slice(std::max(b, na) - na), more.raw(), more.bytes());
    window = std::move(next), a = na, b = nb;
    const Volume core = filtered_core(window, a, z0, z1, steps, three_d);
    if (!writer) writer = std::make_unique<StackWriter>(output, write, core, nz), result.dtype = core.dtype();
    writer->append(core);
    ++result.slabs;
    progress.advance(z1 - z0);
    check_cancelled();
  }
  writer->commit();
  return result;
}

}  // namespace uniem
