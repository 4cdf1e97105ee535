#include "core/image/label.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <mutex>
#include <limits>
#include <vector>

#include "core/image/byte_mask.h"
#include "core/threads.h"
#include "core/union_find.h"

namespace uniem {
namespace {

struct Run {
  int32_t start, end;  // inclusive x range
};

// Neighbouring earlier rows of row (z, y), as (dz, dy, x tolerance).
struct NeighbourRow {
  int dz, dy, tolerance;
};

std::vector<NeighbourRow> neighbour_rows(Connectivity c) {
  switch (c) {
    case Connectivity::c4: return {{0, -1, 0}};
    case Connectivity::c8: return {{0, -1, 1}};
    case Connectivity::c6: return {{0, -1, 0}, {-1, 0, 0}};
    case Connectivity::c18: return {{0, -1, 1}, {-1, -1, 0}, {-1, 0, 1}, {-1, 1, 0}};
    case Connectivity::c26: return {{0, -1, 1}, {-1, -1, 1}, {-1, 0, 1}, {-1, 1, 1}};
  }
  return {};
}


// Runs of nonzero bytes in a row, 64 bytes at a time: each block becomes a 64-bit mask of its
// nonzero bytes (nonzero_mask, byte_mask.h), and the runs are read off the mask's edges with bit scans: a start where a set bit follows a clear one, an end
// where a clear bit follows a set one. All-zero blocks cost one compare. Masks are the common input;
// this took the labelling of the 512^3 blob mask (bench/image, 30% foreground, one thread) from
// 0.66 to 0.45 s; eight bytes at a time with a has-zero-byte trick before.

void binary_byte_runs(const uint8_t* p, int64_t nx, std::vector<Run>& out) {
  bool open = false;  // a run continues from the previous block
  int64_t start = 0;
  const auto block = [&](uint64_t m, int64_t base, int width) {
    // Bit i of `edges` is set where byte i differs from byte i - 1 (byte -1: whether a run is open).
    const uint64_t edges = m ^ ((m << 1) | (open ? 1u : 0u));
    uint64_t e = width == 64 ? edges : edges & ((uint64_t{1} << width) - 1);
    while (e) {
      const int i = std::countr_zero(e);
      e &= e - 1;
      if (!open) {
        start = base + i;
        open = true;
      } else {
        out.push_back({static_cast<int32_t>(start), static_cast<int32_t>(base + i - 1)});
        open = false;
      }
    }
  };
  int64_t x = 0;
  for (; x + 64 <= nx; x += 64) {
    const uint64_t m = nonzero_mask(p + x);
    if (m == 0 && !open) continue;
    block(m, x, 64);
  }
  if (x < nx) {
    uint64_t m = 0;
    for (int64_t i = x; i < nx; ++i) m |= static_cast<uint64_t>(p[i] != 0) << (i - x);
    block(m, x, static_cast<int>(nx - x));
  }
  if (open) out.push_back({static_cast<int32_t>(start), static_cast<int32_t>(nx - 1)});
}

template <class T>
LabelResult label_typed(const Volume& in, Connectivity connectivity, bool preserve) {
  const int64_t nz = in.nz(), ny = in.ny(), nx = in.nx(), rows = nz * ny;
  if (nx > std::numeric_limits<int32_t>::max()) throw InputError("rows longer than 2^31 voxels cannot be labelled");
  const T* data = in.data<T>();
  auto row_data = [&](int64_t r) { return data + r * nx; };
  // Neighbours a, b on a row are in one run: equal values (label mode) or both nonzero (binary).
  auto same_run = [&](T a, T b) { return preserve ? a == b : (a != T{0} && b != T{0}); };

  // Pass 1: the runs of each row, collected per chunk of rows in parallel, then concatenated in
  // raster order so that a run's index is its order in the volume.
  std::vector<int64_t> first_run(static_cast<size_t>(rows) + 1, 0);
  std::map<int64_t, std::pair<std::vector<Run>, std::vector<T>>> chunks;
  std::mutex chunks_mutex;
  parallel_for(0, rows, 256, [&](int64_t b, int64_t e) {
    std::vector<Run> local;
    std::vector<T> local_values;
    for (int64_t r = b; r < e; ++r) {
      const size_t before = local.size();
      if constexpr (std::is_same_v<T, uint8_t>) {
        if (!preserve) {
          binary_byte_runs(row_data(r), nx, local);
          first_run[static_cast<size_t>(r) + 1] = static_cast<int64_t>(local.size() - before);
          continue;
        }
      }
      const T* p = row_data(r);
      for (int64_t x = 0; x < nx;) {
        if (p[x] == T{0}) {
          ++x;
          continue;
        }
        const int64_t start = x;
        while (x + 1 < nx && same_run(p[x], p[x + 1])) ++x;
        local.push_back({static_cast<int32_t>(start), static_cast<int32_t>(x)});
        if (preserve) local_values.push_back(p[start]);
        ++x;
      }
      first_run[static_cast<size_t>(r) + 1] = static_cast<int64_t>(local.size() - before);
    }
    std::lock_guard lock(chunks_mutex);
    chunks[b] = {std::move(local), std::move(local_values)};
  });
  for (size_t r = 1; r < first_run.size(); ++r) first_run[r] += first_run[r - 1];
  const int64_t total = first_run.back();
  if (total >= std::numeric_limits<uint32_t>::max()) throw InputError("too many runs to label (over 4 billion)");
  std::vector<Run> runs;
  std::vector<T> run_value;
  runs.reserve(static_cast<size_t>(total));
  run_value.reserve(preserve ? static_cast<size_t>(total) : 0);
  for (auto& [b, chunk] : chunks) {
    runs.insert(runs.end(), chunk.first.begin(), chunk.first.end());
    run_value.insert(run_value.end(), chunk.second.begin(), chunk.second.end());
  }
  chunks.clear();

  // Pass 2: join touching runs of each row and its earlier neighbour rows.
  UnionFind<uint32_t> sets(static_cast<size_t>(total));
  const auto neighbours = neighbour_rows(connectivity);
  for (int64_t z = 0; z < nz; ++z) {
    for (int64_t y = 0; y < ny; ++y) {
      const int64_t r = z * ny + y;
      const auto a_begin = static_cast<size_t>(first_run[static_cast<size_t>(r)]);
      const auto a_end = static_cast<size_t>(first_run[static_cast<size_t>(r) + 1]);
      if (a_begin == a_end) continue;
      for (const auto& n : neighbours) {
        const int64_t qz = z + n.dz, qy = y + n.dy;
        if (qz < 0 || qy < 0 || qy >= ny) continue;
        const int64_t q = qz * ny + qy;
        auto j0 = static_cast<size_t>(first_run[static_cast<size_t>(q)]);
        const auto b_end = static_cast<size_t>(first_run[static_cast<size_t>(q) + 1]);
        for (size_t i = a_begin; i < a_end && j0 < b_end; ++i) {
          const Run a = runs[i];
          while (j0 < b_end && runs[j0].end + n.tolerance < a.start) ++j0;
          for (size_t j = j0; j < b_end && runs[j].start <= a.end + n.tolerance; ++j)
            if (!preserve || run_value[i] == run_value[j]) sets.join(static_cast<uint32_t>(i), static_cast<uint32_t>(j));
        }
      }
    }
  }

  // Pass 3: ids 1..N in order of each component's first run, then fill the output.
  std::vector<uint32_t> run_id(static_cast<size_t>(total));
  std::vector<uint32_t> root_id(static_cast<size_t>(total), 0);
  uint32_t next = 0;
  for (size_t i = 0; i < run_id.size(); ++i) {
    const uint32_t root = sets.find(static_cast<uint32_t>(i));
    if (root_id[root] == 0) root_id[root] = ++next;
    run_id[i] = root_id[root];
  }
  LabelResult result;
  result.count = next;
  result.labels = Volume(DType::u32, nz, ny, nx);
  result.labels.voxel_size = in.voxel_size;
  uint32_t* out = result.labels.data<uint32_t>();
  parallel_for(0, rows, 256, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (auto k = static_cast<size_t>(first_run[static_cast<size_t>(r)]); k < static_cast<size_t>(first_run[static_cast<size_t>(r) + 1]); ++k)
        std::fill(out + r * nx + runs[k].start, out + r * nx + runs[k].end + 1, run_id[k]);
  });
  return result;
}

}  // namespace

std::optional<Connectivity> connectivity_from(int n) {
  switch (n) {
    case 4: return Connectivity::c4;
    case 8: return Connectivity::c8;
    case 6: return Connectivity::c6;
    case 18: return Connectivity::c18;
    case 26: return Connectivity::c26;
    default: return std::nullopt;
  }
}

bool connectivity_is_2d(Connectivity c) { return c == Connectivity::c4 || c == Connectivity::c8; }

LabelResult label_components(const Volume& input, Connectivity connectivity, bool preserve_labels) {
  if (input.channels() != 1) throw InputError("labeling needs a one-channel volume, not colour");
  if (preserve_labels && !dtype_is_integer(input.dtype()))
    throw InputError("label-preserving labeling needs integer labels, not float32; threshold the image first");
  return visit_dtype(input.dtype(), [&](auto t) { return label_typed<decltype(t)>(input, connectivity, preserve_labels); });
}

}  // namespace uniem
