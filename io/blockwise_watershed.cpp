#include "io/blockwise_watershed.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/cancel.h"
#include "core/error.h"
#include "core/image/filters.h"
#include "core/image/statistics.h"
#include "core/image/watershed.h"
#include "core/progress.h"
#include "io/blockwise_label.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

Volume read_sections(const fs::path& path, const ReadOptions& read, int64_t a, int64_t b) {
  StackReader reader(path, read);
  if (b > reader.nz()) throw InputError(path, "has " + std::to_string(reader.nz()) + " sections, fewer than the image");
  reader.seek(a);
  return reader.next(b - a);
}

// Sections [from, to) of `v`, whose first section is section `first` of the stack.
Volume sections_of(const Volume& v, int64_t first, int64_t from, int64_t to) {
  Volume out(v.dtype(), to - from, v.ny(), v.nx(), v.channels());
  if (to > from) std::memcpy(out.raw(), v.raw_slice(from - first), out.bytes());
  return out;
}

uint32_t max_id(const Volume& labels) {
  const uint32_t* p = labels.data<uint32_t>();
  return labels.voxels() ? *std::max_element(p, p + labels.voxels()) : 0;
}

// Joins the regions of two slabs that are each other's largest partner where their windows overlap.
template <class Join>
void stitch(const Volume& before, int64_t base_before, const Volume& after, int64_t base_after, Join&& join) {
  const uint32_t* p = before.data<uint32_t>();
  const uint32_t* q = after.data<uint32_t>();
  std::unordered_map<uint64_t, int64_t> pairs;
  for (int64_t i = 0; i < before.voxels(); ++i)
    if (p[i] && q[i]) ++pairs[(static_cast<uint64_t>(p[i]) << 32) | q[i]];
  std::map<uint32_t, std::pair<int64_t, uint32_t>> best_of_before, best_of_after;  // id -> (count, partner)
  const auto better = [](std::pair<int64_t, uint32_t>& best, int64_t n, uint32_t partner) {
    if (n > best.first || (n == best.first && partner < best.second)) best = {n, partner};
  };
  for (const auto& [key, n] : pairs) {
    const uint32_t a = static_cast<uint32_t>(key >> 32), b = static_cast<uint32_t>(key & 0xffffffffu);
    better(best_of_before[a], n, b);
    better(best_of_after[b], n, a);
  }
  for (const auto& [a, best] : best_of_before)
    if (best_of_after[best.second].second == a) join(base_before + a, base_after + best.second);
}

}  // namespace

double stack_otsu_threshold(const fs::path& input, const ReadOptions& read, int64_t slab_sections) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  DType type = DType::u8;
  {
    StackReader reader(input, read);
    type = reader.dtype();
    if (reader.channels() != 1) throw InputError(input, "otsu needs a one-channel image, not colour");
    if (type == DType::u32 || type == DType::u64)
      throw InputError(input, "otsu works on images, and this is a " + std::string(dtype_name(type)) + " volume (label ids?)");
    for (Volume v = reader.next(slab_sections); !v.empty(); v = reader.next(slab_sections)) {
      const auto r = value_range(v);
      lo = std::min(lo, r.min), hi = std::max(hi, r.max);
      check_cancelled();
    }
  }
  if (!(hi > lo)) return lo;
  const bool per_value = dtype_is_integer(type);
  const size_t bins = per_value ? static_cast<size_t>(hi - lo + 1) : 256;
  const double width = per_value ? 1 : (hi - lo) / 256.0;
  std::vector<double> hist(bins, 0), centre(bins);
  for (size_t i = 0; i < bins; ++i) centre[i] = per_value ? lo + static_cast<double>(i) : lo + width * (static_cast<double>(i) + 0.5);
  StackReader reader(input, read);
  for (Volume v = reader.next(slab_sections); !v.empty(); v = reader.next(slab_sections)) {
    for (int64_t i = 0; i < v.elements(); ++i) {
      const double x = v.value(i);
      hist[per_value ? static_cast<size_t>(x - lo) : std::min<size_t>(bins - 1, static_cast<size_t>((x - lo) / width))] += 1;
    }
    check_cancelled();
  }
  return otsu_from_histogram(hist, centre);
}

WatershedSlabs::Window WatershedSlabs::window(int64_t k) const {
  const int64_t z0 = k * sections, z1 = std::min(nz, z0 + sections);
  return {z0, z1, std::max<int64_t>(0, z0 - overlap), std::min(nz, z1 + overlap)};
}

Volume flood_window(const fs::path& input, const ReadOptions& read, const BlockwiseWatershedOptions& o, double level,
                    const WatershedSlabs::Window& w) {
  const Volume land = read_sections(input, read, w.a, w.b);
  if (land.channels() != 1) throw InputError(input, "is a colour image; the watershed needs one channel (convert it to grey first)");
  const Volume markers = o.markers.empty() ? markers_below(land, level, o.connectivity) : read_sections(o.markers, read, w.a, w.b);
  Volume mask;
  if (!o.mask.empty()) mask = read_sections(o.mask, read, w.a, w.b);
  return watershed(land, markers, mask.empty() ? nullptr : &mask, {o.connectivity, o.lines});
}

FloodedSlab flooded_slab(const Volume& labels, const WatershedSlabs& slabs, int64_t k) {
  const auto w = slabs.window(k);
  FloodedSlab f;
  f.regions = max_id(labels);
  std::vector<bool> shown(static_cast<size_t>(f.regions) + 1, false);
  const uint32_t* ids = labels.data<uint32_t>();
  const int64_t plane = labels.ny() * labels.nx();
  for (int64_t i = (w.z0 - w.a) * plane; i < (w.z1 - w.a) * plane; ++i) shown[ids[i]] = true;
  for (uint32_t i = 1; i <= f.regions; ++i)
    if (shown[i]) f.shown.push_back(i);
  if (k > 0) f.head = sections_of(labels, w.a, w.a, slabs.window(k - 1).b);
  if (k + 1 < slabs.count()) f.tail = sections_of(labels, w.a, slabs.window(k + 1).a, w.b);
  return f;
}

void RegionJoin::add(const FloodedSlab& slab) {
  const int64_t b = static_cast<int64_t>(sets_.size()) - 1;
  sets_.grow(static_cast<size_t>(b + slab.regions + 1));
  shown_.resize(sets_.size(), false);
  for (uint32_t i : slab.shown) shown_[static_cast<size_t>(b + i)] = true;
  if (!base_.empty()) {
    if (tail_.shape() != slab.head.shape()) throw InputError("the overlaps of neighbouring slabs differ in shape; were they flooded with other options?");
    stitch(tail_, base_.back(), slab.head, b, [this](int64_t p, int64_t q) { sets_.join(p, q); });
  }
  base_.push_back(b);
  tail_ = slab.tail;
}

std::vector<uint64_t> RegionJoin::final_ids(int64_t* count) {
  std::vector<uint64_t> final_id(sets_.size(), 0);
  std::vector<bool> shown = shown_;
  for (size_t p = 1; p < sets_.size(); ++p)
    if (shown_[p]) shown[static_cast<size_t>(sets_.find(static_cast<int64_t>(p)))] = true;
  int64_t n = 0;
  for (size_t p = 1; p < sets_.size(); ++p)
    if (static_cast<size_t>(sets_.find(static_cast<int64_t>(p))) == p && shown[p]) final_id[p] = static_cast<uint64_t>(++n);
  for (size_t p = 1; p < sets_.size(); ++p) final_id[p] = final_id[static_cast<size_t>(sets_.find(static_cast<int64_t>(p)))];
  if (count) *count = n;
  return final_id;
}

Volume final_regions(const Volume& labels, const WatershedSlabs& slabs, int64_t k, const std::vector<uint64_t>& final_id, int64_t base,
                     DType type) {
  const auto w = slabs.window(k);
  const Volume core = sections_of(labels, w.a, w.z0, w.z1);
  Volume out(type, core.nz(), core.ny(), core.nx());
  const uint32_t* ids = core.data<uint32_t>();
  visit_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      T* dst = out.data<T>();
      for (int64_t i = 0; i < out.voxels(); ++i)
        dst[i] = final_id.empty() ? static_cast<T>(ids[i]) : ids[i] ? static_cast<T>(final_id[static_cast<size_t>(base + ids[i])]) : T{0};
    }
  });
  return out;
}

BlockwiseWatershedResult watershed_blockwise(const fs::path& input, const ReadOptions& read, const fs::path& output, const WriteOptions& write,
                                             const BlockwiseWatershedOptions& o) {
  BlockwiseWatershedResult result;
  const StackReader probe(input, read);
  const WatershedSlabs slabs{probe.nz(), std::max<int64_t>(1, o.slab_sections), std::max<int64_t>(0, o.overlap)};
  result.slabs = slabs.count();
  if (o.markers.empty()) result.level = o.seeds_below_otsu ? stack_otsu_threshold(input, read, slabs.sections) : o.seeds_below.value_or(0);
  const VoxelSize voxel_size = read.voxel_size ? *read.voxel_size : probe.voxel_size();

  // Pass 1 (seeds from the landscape): each window's regions, joined across the overlaps.
  RegionJoin join;
  std::vector<uint64_t> final_id;
  if (o.markers.empty()) {
    Progress progress("flooding " + input.filename().string() + " in slabs", slabs.nz);
    for (int64_t k = 0; k < slabs.count(); ++k) {
      join.add(flooded_slab(flood_window(input, read, o, result.level, slabs.window(k)), slabs, k));
      progress.advance(slabs.window(k).z1 - slabs.window(k).z0);
      check_cancelled();
    }
    final_id = join.final_ids(&result.regions);
  }

  // Pass 2: each window flooded again, its own sections written with the final ids (the markers'
  // own ids with --markers, in 32 bits).
  const DType type = o.markers.empty() ? label_type(result.regions) : DType::u32;
  if (write.format == StackFormat::png_folder && type == DType::u32)
    throw InputError(output, "32-bit region ids are more than PNG holds; write a .tif file");
  Volume like(type, 1, probe.ny(), probe.nx());
  like.voxel_size = voxel_size;
  StackWriter writer(output, write, like, slabs.nz);
  Progress progress("writing " + output.filename().string(), slabs.nz);
  std::vector<bool> seen;
  for (int64_t k = 0; k < slabs.count(); ++k) {
    const auto w = slabs.window(k);
    const int64_t base = o.markers.empty() ? join.bases()[static_cast<size_t>(k)] : 0;
    Volume out = final_regions(flood_window(input, read, o, result.level, w), slabs, k, final_id, base, type);
    out.voxel_size = voxel_size;
    if (!o.markers.empty())
      for (int64_t i = 0; i < out.voxels(); ++i) {
        const auto id = static_cast<size_t>(out.value(i));
        if (id >= seen.size()) seen.resize(id + 1, false);
        if (id && !seen[id]) seen[id] = true, ++result.regions;
      }
    writer.append(out);
    progress.advance(w.z1 - w.z0);
    check_cancelled();
  }
  writer.commit();
  return result;
}

}  // namespace uniem
