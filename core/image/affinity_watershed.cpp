#include "core/image/affinity_watershed.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/image/affinities.h"
#include "core/progress.h"
#include "core/threads.h"

namespace uniem {
namespace {

// The six edges of a voxel, as bits: 0 -x, 1 +x, 2 -y, 3 +y, 4 -z, 5 +z; bit d ^ 1 is the
// opposite direction, so the edge u -> n along d is n -> u along d ^ 1.
constexpr uint8_t exit_flag = 0x80, visited_flag = 0x40, direction_bits = 0x3f;

struct Grid {
  int64_t nz, ny, nx;
  int64_t offset[6];
  explicit Grid(const Volume& v) : nz(v.nz()), ny(v.ny()), nx(v.nx()) {
    const int64_t o[6] = {-1, 1, -nx, nx, -nx * ny, nx * ny};
    std::copy(o, o + 6, offset);
  }
};

int lowest_bit(uint32_t bits) { return __builtin_ctz(bits); }

// Step 1: dirs[i] = the edges of voxel i with its largest (clamped) affinity, if that is >= low.
template <class T>
void steepest_ascent(const Volume& affinities, const Grid& g, float low, float high, std::vector<uint8_t>& dirs,
                     Progress& progress) {
  const T* a = affinities.data<T>();
  const auto unit = static_cast<float>(affinity_unit(affinities.dtype()));
  const int64_t plane = g.nx * g.ny;
  parallel_for(0, g.nz, 1, [&](int64_t z0, int64_t z1) {
    for (int64_t z = z0; z < z1; ++z) {
      for (int64_t y = 0; y < g.ny; ++y)
        for (int64_t x = 0; x < g.nx; ++x) {
          const int64_t i = (z * g.ny + y) * g.nx + x;
          float w[6];
          w[0] = x > 0 ? affinity_value(a[i * 3], unit) : -1.0f;
          w[1] = x + 1 < g.nx ? affinity_value(a[(i + 1) * 3], unit) : -1.0f;
          w[2] = y > 0 ? affinity_value(a[i * 3 + 1], unit) : -1.0f;
          w[3] = y + 1 < g.ny ? affinity_value(a[(i + g.nx) * 3 + 1], unit) : -1.0f;
          w[4] = z > 0 ? affinity_value(a[i * 3 + 2], unit) : -1.0f;
          w[5] = z + 1 < g.nz ? affinity_value(a[(i + plane) * 3 + 2], unit) : -1.0f;
          float m = -1.0f;
          for (float& v : w) {
            v = std::min(v, high);
            m = std::max(m, v);
          }
          uint8_t bits = 0;
          if (m >= low)
            for (int d = 0; d < 6; ++d) bits |= static_cast<uint8_t>(w[d] == m) << d;
          dirs[i] = bits;
        }
      progress.advance();
    }
  });
}

// Step 2: kept[i] = one edge (exit_flag or visited_flag and its direction bit), or 0 for the
// voxels of plateaus without an exit (and voxels without edges).
std::vector<uint8_t> divide_plateaus(const std::vector<uint8_t>& dirs, const Grid& g) {
  const int64_t n = static_cast<int64_t>(dirs.size());
  std::vector<uint8_t> kept(dirs.size(), 0);
  auto bidirectional = [&](int64_t i, int d) { return (dirs[i + g.offset[d]] >> (d ^ 1)) & 1; };
  parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (uint32_t bits = dirs[i]; bits; bits &= bits - 1) {
        const int d = lowest_bit(bits);
        if (!bidirectional(i, d)) {
          kept[i] = static_cast<uint8_t>(exit_flag | (1u << d));
          break;
        }
      }
  });
  // Breadth-first from the exits, in raster order, across the plateaus' two-way edges.
  std::vector<uint32_t> queue;
  auto visit_from = [&](int64_t u) {
    for (uint32_t bits = dirs[u]; bits; bits &= bits - 1) {
      const int d = lowest_bit(bits);
      const int64_t v = u + g.offset[d];
      if (kept[v] == 0 && bidirectional(u, d)) {
        kept[v] = static_cast<uint8_t>(visited_flag | (1u << (d ^ 1)));
        queue.push_back(static_cast<uint32_t>(v));
      }
    }
  };
  for (int64_t i = 0; i < n; ++i)
    if (kept[i] & exit_flag) {
      // Only exits on a plateau start a search: most voxels have one steepest edge.
      bool on_plateau = false;
      for (uint32_t bits = dirs[i]; bits && !on_plateau; bits &= bits - 1)
        on_plateau = kept[i + g.offset[lowest_bit(bits)]] == 0 && bidirectional(i, lowest_bit(bits));
      if (on_plateau) queue.push_back(static_cast<uint32_t>(i));
    }
  for (size_t head = 0; head < queue.size(); ++head) visit_from(queue[head]);
  return kept;
}

// Union-find over voxel indices in `parent`, the smaller index the root: parent[i] <= i always.
uint32_t find_root(uint32_t* parent, uint32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

void join(uint32_t* parent, uint32_t a, uint32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a < b) parent[b] = a;
  else if (b < a) parent[a] = b;
}

// Step 3: basins numbered 1.. in raster order of their first voxel, into `labels`.
uint32_t find_basins(const std::vector<uint8_t>& dirs, const std::vector<uint8_t>& kept, const Grid& g,
                     uint32_t* labels) {
  const int64_t n = static_cast<int64_t>(dirs.size());
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<uint32_t>(i);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t k = kept[i];
    if (k & (exit_flag | visited_flag)) {
      join(labels, static_cast<uint32_t>(i), static_cast<uint32_t>(i + g.offset[lowest_bit(k & direction_bits)]));
    } else {
      // A plateau without exit: its two-way edges, each from the voxel it leaves forward.
      for (uint32_t bits = dirs[i] & 0x2a; bits; bits &= bits - 1)
        join(labels, static_cast<uint32_t>(i), static_cast<uint32_t>(i + g.offset[lowest_bit(bits)]));
    }
  }
  // parent[i] < i is final by the time i is reached, so one pass points every voxel at its root;
  // the next names each root as it comes (a root precedes the rest of its basin).
  for (int64_t i = 0; i < n; ++i) labels[i] = labels[labels[i]];
  uint32_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (dirs[i] == 0) labels[i] = 0;  // no edge >= low: background (nothing points at it either)
    else labels[i] = labels[i] == static_cast<uint32_t>(i) ? ++count : labels[labels[i]];
  }
  return count;
}

struct MaxEdge {
  uint64_t pair;  // smaller id << 32 | larger id
  float affinity;
};

// The largest affinity between every two touching basins, sorted by pair. Each section's pairs
// are collected apart (with the section before it), so the result does not depend on threads.
template <class T>
std::vector<MaxEdge> basin_graph(const Volume& affinities, const uint32_t* labels, const Grid& g, Progress& progress) {
  const T* a = affinities.data<T>();
  const auto unit = static_cast<float>(affinity_unit(affinities.dtype()));
  std::vector<std::vector<MaxEdge>> sections(static_cast<size_t>(g.nz));
  auto reduce = [](std::vector<MaxEdge>& e) {
    std::sort(e.begin(), e.end(), [](const MaxEdge& p, const MaxEdge& q) { return p.pair < q.pair; });
    size_t out = 0;
    for (size_t i = 0; i < e.size(); ++i) {
      if (out > 0 && e[out - 1].pair == e[i].pair) e[out - 1].affinity = std::max(e[out - 1].affinity, e[i].affinity);
      else e[out++] = e[i];
    }
    e.resize(out);
  };
  parallel_for(0, g.nz, 1, [&](int64_t z0, int64_t z1) {
    for (int64_t z = z0; z < z1; ++z) {
      std::vector<MaxEdge>& e = sections[static_cast<size_t>(z)];
      for (int64_t y = 0; y < g.ny; ++y)
        for (int64_t x = 0; x < g.nx; ++x) {
          const int64_t i = (z * g.ny + y) * g.nx + x;
          const uint32_t l = labels[i];
          if (l == 0) continue;
          const bool has[3] = {x > 0, y > 0, z > 0};
          for (int c = 0; c < 3; ++c) {
            if (!has[c]) continue;
            const uint32_t m = labels[i + g.offset[2 * c]];
            if (m == 0 || m == l) continue;
            const uint64_t pair = l < m ? (uint64_t{l} << 32 | m) : (uint64_t{m} << 32 | l);
            e.push_back({pair, affinity_value(a[i * 3 + c], unit)});
          }
        }
      reduce(e);
      progress.advance();
    }
  });
  std::vector<MaxEdge> all;
  for (auto& s : sections) {
    all.insert(all.end(), s.begin(), s.end());
    std::vector<MaxEdge>().swap(s);
  }
  reduce(all);
  return all;
}

// Step 4, on the basins' graph; returns the new id of every basin (0 stays 0).
std::vector<uint32_t> merge_by_size(std::vector<MaxEdge> edges, const std::vector<uint64_t>& sizes,
                                    const AffinityWatershedOptions& o) {
  const auto basins = static_cast<uint32_t>(sizes.size() - 1);
  std::vector<uint32_t> parent(sizes.size());
  for (uint32_t i = 0; i <= basins; ++i) parent[i] = i;
  std::vector<uint64_t> size = sizes;
  std::stable_sort(edges.begin(), edges.end(), [](const MaxEdge& p, const MaxEdge& q) { return p.affinity > q.affinity; });
  const auto min_size = static_cast<uint64_t>(std::max<int64_t>(o.size, 0));
  for (const MaxEdge& e : edges) {
    if (e.affinity < static_cast<float>(o.size_threshold)) break;
    const uint32_t a = find_root(parent.data(), static_cast<uint32_t>(e.pair >> 32));
    const uint32_t b = find_root(parent.data(), static_cast<uint32_t>(e.pair & 0xffffffffu));
    if (a == b || (size[a] >= min_size && size[b] >= min_size)) continue;
    const uint32_t root = std::min(a, b), other = std::max(a, b);
    parent[other] = root;
    size[root] += size[other];
  }
  std::vector<uint32_t> id(sizes.size(), 0);
  uint32_t count = 0;
  for (uint32_t b = 1; b <= basins; ++b) {
    const uint32_t r = find_root(parent.data(), b);
    id[b] = r == b ? ++count : id[r];
  }
  return id;
}

template <class T>
Fragments run(const Volume& affinities, const AffinityWatershedOptions& o) {
  const Grid g(affinities);
  const int64_t n = affinities.voxels();
  Progress progress("fragments", 2 * g.nz);
  std::vector<uint8_t> dirs(static_cast<size_t>(n));
  steepest_ascent<T>(affinities, g, static_cast<float>(o.low), static_cast<float>(o.high), dirs, progress);
  const std::vector<uint8_t> kept = divide_plateaus(dirs, g);
  Fragments f;
  f.labels = Volume(DType::u32, g.nz, g.ny, g.nx);
  f.labels.voxel_size = affinities.voxel_size;
  uint32_t* labels = f.labels.data<uint32_t>();
  f.basins = find_basins(dirs, kept, g, labels);
  std::vector<uint8_t>().swap(dirs);
  std::vector<uint64_t> sizes(size_t{f.basins} + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++sizes[labels[i]];
  const std::vector<uint32_t> id = merge_by_size(basin_graph<T>(affinities, labels, g, progress), sizes, o);
  parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) labels[i] = id[labels[i]];
  });
  f.count = *std::max_element(id.begin(), id.end());
  return f;
}

}  // namespace

Fragments affinity_watershed(const Volume& affinities, const AffinityWatershedOptions& options) {
  check_affinities(affinities);
  const auto& o = options;
  auto in_unit = [](double v) { return v >= 0 && v <= 1; };
  if (!in_unit(o.high) || !in_unit(o.low) || !in_unit(o.size_threshold))
    throw InputError("the watershed's thresholds (high, low, size threshold) must lie in [0, 1]");
  if (o.low > o.high) throw InputError("the low threshold must not exceed the high one");
  if (affinities.voxels() >= int64_t{std::numeric_limits<uint32_t>::max()})
    throw InputError("affinities of 2^32 voxels or more: segment the volume in blocks");
  switch (affinities.dtype()) {
    case DType::u8: return run<uint8_t>(affinities, options);
    case DType::u16: return run<uint16_t>(affinities, options);
    default: return run<float>(affinities, options);
  }
}

}  // namespace uniem
