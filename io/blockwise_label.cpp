#include "io/blockwise_label.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#include "core/cancel.h"
#include "core/error.h"
#include "core/image/convert.h"
#include "core/progress.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

// Which (dy, dx) of the section before are neighbours of a voxel under `c`.
std::vector<std::pair<int, int>> face_offsets(Connectivity c) {
  if (c == Connectivity::c6) return {{0, 0}};
  if (c == Connectivity::c18) return {{0, 0}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}};
  if (c == Connectivity::c26) return {{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}, {0, 0}, {0, 1}, {1, -1}, {1, 0}, {1, 1}};
  return {};  // 2D connectivities: sections are labelled on their own
}

// Section `z` of `v` as one-channel values (for comparing labels across the face).
double value_at(const Volume& v, int64_t z, int64_t i) { return v.value(z * v.ny() * v.nx() + i); }

}  // namespace

bool stack_is_mask(const fs::path& input, const ReadOptions& read, int64_t slab_sections) {
  StackReader reader(input, read);
  bool seen = false;
  double first = 0;
  for (Volume v = reader.next(slab_sections); !v.empty(); v = reader.next(slab_sections)) {
    for (int64_t i = 0; i < v.elements(); ++i) {
      const double x = v.value(i);
      if (x == 0) continue;
      if (!seen) seen = true, first = x;
      else if (x != first) return false;
    }
    check_cancelled();
  }
  return true;
}

SlabFaces slab_faces(const Volume& slab, const LabelResult& local) {
  SlabFaces f;
  f.count = local.count;
  const int64_t n = slab.nz(), ny = slab.ny(), nx = slab.nx();
  const auto section = [&](const Volume& v, int64_t z) {
    Volume one(v.dtype(), 1, ny, nx, v.channels());
    std::memcpy(one.raw(), v.raw_slice(z), one.bytes());
    return one;
  };
  f.first_labels = section(local.labels, 0), f.last_labels = section(local.labels, n - 1);
  f.first_values = section(slab, 0), f.last_values = section(slab, n - 1);
  return f;
}

ComponentJoin::ComponentJoin(Connectivity connectivity, bool preserve) : offsets_(face_offsets(connectivity)), preserve_(preserve) {}

void ComponentJoin::add(const SlabFaces& slab) {
  const int64_t b = static_cast<int64_t>(sets_.size()) - 1;
  sets_.grow(static_cast<size_t>(b + slab.count + 1));
  if (!base_.empty() && !offsets_.empty()) {
    const int64_t ny = slab.first_labels.ny(), nx = slab.first_labels.nx();
    if (last_.last_labels.ny() != ny || last_.last_labels.nx() != nx) throw InputError("slabs of different section sizes cannot be joined");
    const uint32_t* below = last_.last_labels.data<uint32_t>();
    const uint32_t* here = slab.first_labels.data<uint32_t>();
    const int64_t previous = base_.back();
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const uint32_t a = here[y * nx + x];
        if (!a) continue;
        for (const auto& [dy, dx] : offsets_) {
          const int64_t yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
          const uint32_t c = below[yy * nx + xx];
          if (!c) continue;
          if (preserve_ && value_at(slab.first_values, 0, y * nx + x) != value_at(last_.last_values, 0, yy * nx + xx)) continue;
          sets_.join(b + a, previous + c);
        }
      }
  }
  base_.push_back(b);
  last_ = slab;
}

std::vector<uint64_t> ComponentJoin::final_ids(int64_t* count) {
  // In order of the smallest provisional id, the root of each component.
  std::vector<uint64_t> final_id(sets_.size(), 0);
  int64_t n = 0;
  for (size_t p = 1; p < sets_.size(); ++p) {
    const int64_t root = sets_.find(static_cast<int64_t>(p));
    final_id[p] = root == static_cast<int64_t>(p) ? static_cast<uint64_t>(++n) : final_id[static_cast<size_t>(root)];
  }
  if (count) *count = n;
  return final_id;
}

DType label_type(int64_t count) { return count <= 0xff ? DType::u8 : count <= 0xffff ? DType::u16 : DType::u32; }

Volume relabel_slab(const LabelResult& local, const std::vector<uint64_t>& final_id, int64_t base, DType type) {
  const Volume& l = local.labels;
  Volume out(type, l.nz(), l.ny(), l.nx());
  const uint32_t* ids = l.data<uint32_t>();
  visit_dtype(type, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      T* dst = out.data<T>();
      for (int64_t i = 0; i < out.voxels(); ++i) dst[i] = ids[i] ? static_cast<T>(final_id[static_cast<size_t>(base + ids[i])]) : T{0};
    }
  });
  return out;
}

int64_t label_slab_sections(int64_t ny, int64_t nx, size_t item, int64_t budget) {
  // The input slab, its uint32 labels, the runs label_components keeps (at most one per voxel
  // pair), the output slab: about 4 times the input and labels.
  const double per_section = static_cast<double>(ny) * static_cast<double>(nx) * (static_cast<double>(item) + 4) * 4;
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(budget) / per_section));
}

BlockwiseLabelResult label_blockwise(const fs::path& input, const ReadOptions& read, const fs::path& output, WriteOptions write,
                                     Connectivity connectivity, int preserve, int64_t slab_sections) {
  slab_sections = std::max<int64_t>(1, slab_sections);
  BlockwiseLabelResult result;
  {
    const StackReader probe(input, read);
    if (preserve < 0) preserve = dtype_is_integer(probe.dtype()) && !stack_is_mask(input, read, slab_sections);
  }
  result.preserved = preserve == 1;

  // Pass 1: provisional ids slab by slab, joined across the faces.
  ComponentJoin join(connectivity, preserve == 1);
  int64_t nz = 0, ny = 0, nx = 0;
  VoxelSize voxel_size;
  {
    StackReader reader(input, read);
    nz = reader.nz(), ny = reader.ny(), nx = reader.nx(), voxel_size = reader.voxel_size();
    Progress progress("labelling " + input.filename().string() + " in slabs", nz);
    for (Volume slab = reader.next(slab_sections); !slab.empty(); slab = reader.next(slab_sections)) {
      join.add(slab_faces(slab, label_components(slab, connectivity, preserve == 1)));
      progress.advance(slab.nz());
      check_cancelled();
    }
  }
  result.slabs = static_cast<int64_t>(join.bases().size());
  const std::vector<uint64_t> final_id = join.final_ids(&result.count);
  const DType type = label_type(result.count);
  if (write.format == StackFormat::png_folder && type == DType::u32)
    throw InputError(output, std::to_string(result.count) + " objects need 32 bits, more than PNG holds; write a .tif file");

  // Pass 2: each slab labelled again (the same slabs give the same local ids), written with its final ids.
  Volume like(type, 1, ny, nx);
  like.voxel_size = read.voxel_size ? *read.voxel_size : voxel_size;
  StackWriter writer(output, write, like, nz);
  StackReader reader(input, read);
  Progress progress("writing " + output.filename().string(), nz);
  size_t k = 0;
  for (Volume slab = reader.next(slab_sections); !slab.empty(); slab = reader.next(slab_sections), ++k) {
    Volume out = relabel_slab(label_components(slab, connectivity, preserve == 1), final_id, join.bases()[k], type);
    out.voxel_size = like.voxel_size;
    writer.append(out);
    progress.advance(slab.nz());
    check_cancelled();
  }
  writer.commit();
  return result;
}

}  // namespace uniem
