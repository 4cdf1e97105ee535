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

struct Window {
  int64_t z0, z1, a, b;  // its own sections [z0, z1), flooded with [a, b)
};

Window window_of(int64_t k, int64_t nz, int64_t s, int64_t h) {
  const int64_t z0 = k * s, z1 = std::min(nz, z0 + s);
  return {z0, z1, std::max<int64_t>(0, z0 - h), std::min(nz, z1 + h)};
}

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

struct Flooder {
  const fs::path& input;
  const ReadOptions& read;
  const BlockwiseWatershedOptions& o;
  double level;
  // The window's regions (uint32): seeded by the landscape below `level` or by the markers.
  Volume operator()(const Window& w) const {
    const Volume land = read_sections(input, read, w.a, w.b);
    if (land.channels() != 1) throw InputError(input, "is a colour image; the watershed needs one channel (convert it to grey first)");
    const Volume markers = o.markers.empty() ? markers_below(land, level, o.connectivity) : read_sections(o.markers, read, w.a, w.b);
    Volume mask;
    if (!o.mask.empty()) mask = read_sections(o.mask, read, w.a, w.b);
    return watershed(land, markers, mask.empty() ? nullptr : &mask, {o.connectivity, o.lines});
  }
};

uint32_t max_id(const Volume& labels) {
  const uint32_t* p = labels.data<uint32_t>();
  return labels.voxels() ? *std::max_element(p, p + labels.voxels()) : 0;
}

struct UnionFind {
  std::vector<int64_t> parent{0};
  int64_t find(int64_t a) {
    while (parent[static_cast<size_t>(a)] != a) a = parent[static_cast<size_t>(a)] = parent[static_cast<size_t>(parent[static_cast<size_t>(a)])];
    return a;
  }
  void join(int64_t a, int64_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

// Joins the regions of two slabs that are each other's largest partner where their windows overlap.
void stitch(const Volume& before, int64_t base_before, const Volume& after, int64_t base_after, UnionFind& uf) {
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
    if (best_of_after[best.second].second == a) uf.join(base_before + a, base_after + best.second);
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

BlockwiseWatershedResult watershed_blockwise(const fs::path& input, const ReadOptions& read, const fs::path& output, const WriteOptions& write,
                                             const BlockwiseWatershedOptions& o) {
  BlockwiseWatershedResult result;
  const StackReader probe(input, read);
  const int64_t nz = probe.nz(), s = std::max<int64_t>(1, o.slab_sections), h = std::max<int64_t>(0, o.overlap);
  result.slabs = (nz + s - 1) / s;
  if (o.markers.empty())
    result.level = o.seeds_below_otsu ? stack_otsu_threshold(input, read, s) : o.seeds_below.value_or(0);
  const Flooder flood{input, read, o, result.level};
  VoxelSize voxel_size = read.voxel_size ? *read.voxel_size : probe.voxel_size();

  // Pass 1 (seeds from the landscape): each window's regions get provisional ids; neighbouring
  // slabs are joined where their windows overlap; what appears in a slab's own sections is kept.
  UnionFind uf;
  std::vector<int64_t> base;
  std::vector<bool> shown{false};
  if (o.markers.empty()) {
    Volume overlap;  // the last window's labels on the sections the next window shares
    Progress progress("flooding " + input.filename().string() + " in slabs", nz);
    for (int64_t k = 0; k < result.slabs; ++k) {
      const Window w = window_of(k, nz, s, h);
      const Volume labels = flood(w);
      const int64_t b = static_cast<int64_t>(uf.parent.size()) - 1;
      base.push_back(b);
      const uint32_t n = max_id(labels);
      for (uint32_t i = 1; i <= n; ++i) uf.parent.push_back(b + i), shown.push_back(false);
      const uint32_t* ids = labels.data<uint32_t>();
      for (int64_t i = (w.z0 - w.a) * labels.ny() * labels.nx(); i < (w.z1 - w.a) * labels.ny() * labels.nx(); ++i)
        if (ids[i]) shown[static_cast<size_t>(b + ids[i])] = true;
      if (k > 0) {
        const Window before = window_of(k - 1, nz, s, h);
        stitch(overlap, base[static_cast<size_t>(k - 1)], sections_of(labels, w.a, w.a, before.b), b, uf);
      }
      if (k + 1 < result.slabs) overlap = sections_of(labels, w.a, window_of(k + 1, nz, s, h).a, w.b);
      progress.advance(w.z1 - w.z0);
      check_cancelled();
    }
  }
  // Final ids: the regions seen in the slabs' own sections, numbered in the order of their seeds.
  std::vector<uint64_t> final_id(uf.parent.size(), 0);
  for (size_t p = 1; p < uf.parent.size(); ++p) {
    const size_t root = static_cast<size_t>(uf.find(static_cast<int64_t>(p)));
    if (shown[p] && !shown[root]) shown[root] = true;
  }
  for (size_t p = 1; p < uf.parent.size(); ++p) {
    const size_t root = static_cast<size_t>(uf.find(static_cast<int64_t>(p)));
    if (root == p && shown[p]) final_id[p] = static_cast<uint64_t>(++result.regions);
  }
  for (size_t p = 1; p < uf.parent.size(); ++p) final_id[p] = final_id[static_cast<size_t>(uf.find(static_cast<int64_t>(p)))];

  // Pass 2: each window flooded again, its own sections written with the final ids (the markers'
  // own ids with --markers, in 32 bits).
  const DType type = o.markers.empty() ? label_type(result.regions) : DType::u32;
  if (write.format == StackFormat::png_folder && type == DType::u32)
    throw InputError(output, "32-bit region ids are more than PNG holds; write a .tif file");
  Volume like(type, 1, probe.ny(), probe.nx());
  like.voxel_size = voxel_size;
  StackWriter writer(output, write, like, nz);
  Progress progress("writing " + output.filename().string(), nz);
  std::vector<bool> seen;
  for (int64_t k = 0; k < result.slabs; ++k) {
    const Window w = window_of(k, nz, s, h);
    const Volume core = sections_of(flood(w), w.a, w.z0, w.z1);
    Volume out(type, core.nz(), core.ny(), core.nx());
    out.voxel_size = voxel_size;
    const uint32_t* ids = core.data<uint32_t>();
    visit_dtype(type, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>) {
        T* dst = out.data<T>();
        for (int64_t i = 0; i < out.voxels(); ++i) {
          if (!o.markers.empty()) {
            dst[i] = static_cast<T>(ids[i]);
            if (ids[i] >= seen.size()) seen.resize(ids[i] + 1, false);
            if (ids[i] && !seen[ids[i]]) seen[ids[i]] = true, ++result.regions;
          } else {
            dst[i] = ids[i] ? static_cast<T>(final_id[static_cast<size_t>(base[static_cast<size_t>(k)] + ids[i])]) : T{0};
          }
        }
      }
    });
    writer.append(out);
    progress.advance(w.z1 - w.z0);
    check_cancelled();
  }
  writer.commit();
  return result;
}

}  // namespace uniem
