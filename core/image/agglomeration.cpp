#include "core/image/agglomeration.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/image/affinities.h"
#include "core/progress.h"
#include "core/threads.h"

namespace uniem {

void AffinityHistogram::append(int bin, uint64_t count) {
  UNIEM_CHECK(bin >= 0 && bin < 256 && count > 0 && (cells_.empty() || bin > this->bin(cells_.size() - 1)),
              "AffinityHistogram::append: bins in increasing order");
  cells_.push_back(count << 8 | static_cast<uint64_t>(bin));
}

void AffinityHistogram::add(const AffinityHistogram& other) {
  std::vector<uint64_t> merged;
  merged.reserve(cells_.size() + other.cells_.size());
  size_t i = 0, j = 0;
  while (i < cells_.size() || j < other.cells_.size()) {
    if (j == other.cells_.size() || (i < cells_.size() && bin(i) < other.bin(j))) {
      merged.push_back(cells_[i++]);
    } else if (i == cells_.size() || other.bin(j) < bin(i)) {
      merged.push_back(other.cells_[j++]);
    } else {
      merged.push_back(cells_[i] + (other.cells_[j] & ~uint64_t{0xff}));  // the counts add, the bin stays
      ++i, ++j;
    }
  }
  cells_ = std::move(merged);
}

uint64_t AffinityHistogram::total() const {
  uint64_t t = 0;
  for (uint64_t c : cells_) t += c >> 8;
  return t;
}

int AffinityHistogram::percentile_bin(double percent) const {
  const uint64_t n = total();
  if (n == 0) return -1;
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(n))));
  uint64_t seen = 0;
  for (size_t k = 0; k < cells_.size(); ++k) {
    seen += count(k);
    if (seen >= rank) return bin(k);
  }
  return bin(cells_.size() - 1);
}

double percentile_affinity(const AffinityHistogram& histogram, double percent) {
  const int b = histogram.percentile_bin(percent);
  return b < 0 ? 0 : (b + 0.5) / 256.0;
}

// ---- The region graph -------------------------------------------------------------------------

namespace {

struct Sample {  // one voxel pair across a boundary
  uint64_t pair;  // smaller id << 32 | larger id
  uint32_t bin;
  uint32_t steps;  // the affinity in steps of the graph's unit
};

struct Tally {  // the voxel pairs of one edge that fall in one bin
  uint64_t pair;
  uint32_t bin;
  uint64_t count, sum;
};

bool by_pair_and_bin(const Tally& p, const Tally& q) { return p.pair != q.pair ? p.pair < q.pair : p.bin < q.bin; }

// Sorted by (pair, bin), equal ones summed.
void reduce(std::vector<Tally>& t) {
  std::sort(t.begin(), t.end(), by_pair_and_bin);
  size_t out = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (out > 0 && t[out - 1].pair == t[i].pair && t[out - 1].bin == t[i].bin) {
      t[out - 1].count += t[i].count;
      t[out - 1].sum += t[i].sum;
    } else {
      t[out++] = t[i];
    }
  }
  t.resize(out);
}

constexpr double float_steps = 16777216.0;  // 2^24 steps per unit for float32 affinities

template <class T>
uint32_t steps_of(T v, float unit) {
  if constexpr (std::is_floating_point_v<T>) return static_cast<uint32_t>(std::lround(affinity_value(v, unit) * float_steps));
  else return v;
}

template <class T>
std::vector<Tally> section_tallies(const Volume& affinities, const uint32_t* labels, int64_t z) {
  const int64_t ny = affinities.ny(), nx = affinities.nx();
  const int64_t offset[3] = {-1, -nx, -nx * ny};
  const T* a = affinities.data<T>();
  const auto unit = static_cast<float>(affinity_unit(affinities.dtype()));
  std::vector<Tally> tallies;
  for (int64_t y = 0; y < ny; ++y)
    for (int64_t x = 0; x < nx; ++x) {
      const int64_t i = (z * ny + y) * nx + x;
      const uint32_t l = labels[i];
      if (l == 0) continue;
      const bool has[3] = {x > 0, y > 0, z > 0};
      for (int c = 0; c < 3; ++c) {
        if (!has[c]) continue;
        const uint32_t m = labels[i + offset[c]];
        if (m == 0 || m == l) continue;
        const T v = a[i * 3 + c];
        tallies.push_back({l < m ? (uint64_t{l} << 32 | m) : (uint64_t{m} << 32 | l),
                           static_cast<uint32_t>(affinity_bin(affinity_value(v, unit))), 1, steps_of(v, unit)});
      }
    }
  reduce(tallies);
  return tallies;
}

}  // namespace

RegionGraph region_graph(const Volume& fragments, const Volume& affinities) {
  check_affinities(affinities);
  if (fragments.dtype() != DType::u32 || fragments.channels() != 1)
    throw InputError("fragments must be a one-channel uint32 volume");
  if (fragments.shape() != affinities.shape())
    throw InputError("the fragments and the affinities differ in shape");
  RegionGraph g;
  g.unit = affinities.dtype() == DType::f32 ? 1.0 / float_steps : affinity_unit(affinities.dtype());
  const uint32_t* labels = fragments.data<uint32_t>();
  const int64_t n = fragments.voxels();
  for (int64_t i = 0; i < n; ++i) g.fragments = std::max(g.fragments, labels[i]);
  g.sizes.assign(size_t{g.fragments} + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++g.sizes[labels[i]];

  Progress progress("region graph", fragments.nz());
  std::vector<std::vector<Tally>> sections(static_cast<size_t>(fragments.nz()));
  parallel_for(0, fragments.nz(), 1, [&](int64_t z0, int64_t z1) {
    for (int64_t z = z0; z < z1; ++z) {
      visit_dtype(affinities.dtype(), [&](auto t) {
        using T = decltype(t);
        if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t> || std::is_same_v<T, float>)
          sections[static_cast<size_t>(z)] = section_tallies<T>(affinities, labels, z);
      });
      progress.advance();
    }
  });
  std::vector<Tally> all;
  for (auto& s : sections) {
    all.insert(all.end(), s.begin(), s.end());
    std::vector<Tally>().swap(s);
  }
  reduce(all);
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == 0 || all[i].pair != all[i - 1].pair) {
      RegionEdge e;
      e.a = static_cast<uint32_t>(all[i].pair >> 32);
      e.b = static_cast<uint32_t>(all[i].pair & 0xffffffffu);
      g.edges.push_back(std::move(e));
    }
    RegionEdge& e = g.edges.back();
    e.count += all[i].count;
    e.sum += all[i].sum;
    e.histogram.append(static_cast<int>(all[i].bin), all[i].count);
  }
  return g;
}

// ---- Agglomeration ----------------------------------------------------------------------------

double edge_score(const RegionGraph& graph, const RegionEdge& edge, const AgglomerationOptions& options) {
  return options.percentile ? percentile_affinity(edge.histogram, *options.percentile) : graph.mean(edge);
}

namespace {

struct Candidate {
  double score;
  uint32_t a, b;  // the edge's regions when it was queued: ties go to the smaller ids
  uint32_t edge, version;
};

// std::priority_queue keeps the largest on top: the highest score, then the smallest ids.
struct Lower {
  bool operator()(const Candidate& p, const Candidate& q) const {
    if (p.score != q.score) return p.score < q.score;
    if (p.a != q.a) return p.a > q.a;
    return p.b > q.b;
  }
};

struct Neighbour {
  uint32_t region, edge;
  bool operator<(const Neighbour& o) const { return region < o.region; }
};

class Agglomerator {
 public:
  Agglomerator(const RegionGraph& graph, const AgglomerationOptions& options)
      : graph_(graph), options_(options), version_(graph.edges.size(), 0), alive_(graph.edges.size(), 1),
        neighbours_(size_t{graph.fragments} + 1), parent_(size_t{graph.fragments} + 1) {
    for (uint32_t f = 0; f <= graph.fragments; ++f) parent_[f] = f;
    // Scoring by the mean needs no histograms: left out, they were half the memory on 10^8 voxels.
    edges_.reserve(graph.edges.size());
    for (const RegionEdge& e : graph.edges) {
      edges_.push_back({e.a, e.b, e.count, e.sum, {}});
      if (options.percentile) edges_.back().histogram = e.histogram;
    }
    for (uint32_t e = 0; e < edges_.size(); ++e) {
      neighbours_[edges_[e].a].push_back({edges_[e].b, e});
      neighbours_[edges_[e].b].push_back({edges_[e].a, e});
      queue(e);
    }
    for (auto& list : neighbours_) std::sort(list.begin(), list.end());
  }

  // Merges while the best score is at least `threshold`.
  void run_down_to(double threshold, Progress& progress) {
    while (!heap_.empty()) {
      const Candidate c = heap_.top();
      if (!alive_[c.edge] || version_[c.edge] != c.version) {
        heap_.pop();
        continue;
      }
      if (c.score < threshold) return;
      heap_.pop();
      merge(c.edge);
      progress.advance();
    }
  }

  std::vector<uint32_t> snapshot(uint32_t& count) {
    std::vector<uint32_t> id(parent_.size(), 0), segment(parent_.size(), 0);
    count = 0;
    for (uint32_t f = 1; f < parent_.size(); ++f) {
      const uint32_t r = find(f);
      if (id[r] == 0) id[r] = ++count;
      segment[f] = id[r];
    }
    return segment;
  }

  uint64_t merges() const { return merges_; }

 private:
  void queue(uint32_t e) {
    heap_.push({edge_score(graph_, edges_[e], options_), edges_[e].a, edges_[e].b, e, version_[e]});
  }

  uint32_t find(uint32_t f) {
    while (parent_[f] != f) {
      parent_[f] = parent_[parent_[f]];
      f = parent_[f];
    }
    return f;
  }

  static void erase(std::vector<Neighbour>& list, uint32_t region) {
    const auto it = std::lower_bound(list.begin(), list.end(), Neighbour{region, 0});
    UNIEM_CHECK(it != list.end() && it->region == region, "agglomeration: adjacency out of step");
    list.erase(it);
  }

  // Joins the two regions of edge e: the one with more neighbours keeps its id and its list.
  void merge(uint32_t e) {
    uint32_t keep = edges_[e].a, gone = edges_[e].b;
    if (neighbours_[gone].size() > neighbours_[keep].size()) std::swap(keep, gone);
    alive_[e] = 0;
    parent_[gone] = keep;
    ++merges_;
    std::vector<Neighbour>& kept = neighbours_[keep];
    std::vector<Neighbour> absorbed = std::move(neighbours_[gone]);
    neighbours_[gone].clear();
    erase(kept, gone);
    std::vector<Neighbour> merged;
    merged.reserve(kept.size() + absorbed.size());
    size_t i = 0, j = 0;
    while (i < kept.size() || j < absorbed.size()) {
      if (j < absorbed.size() && absorbed[j].region == keep) {
        ++j;
      } else if (j == absorbed.size() || (i < kept.size() && kept[i].region < absorbed[j].region)) {
        merged.push_back(kept[i++]);
      } else if (i == kept.size() || absorbed[j].region < kept[i].region) {
        // A neighbour of `gone` only: its edge now ends at `keep`.
        const Neighbour n = absorbed[j++];
        RegionEdge& moved = edges_[n.edge];
        moved.a = std::min(keep, n.region);
        moved.b = std::max(keep, n.region);
        std::vector<Neighbour>& theirs = neighbours_[n.region];
        erase(theirs, gone);
        theirs.insert(std::lower_bound(theirs.begin(), theirs.end(), Neighbour{keep, 0}), Neighbour{keep, n.edge});
        merged.push_back({n.region, n.edge});
      } else {
        // A common neighbour: the two boundaries become one edge, their statistics summed.
        const Neighbour n = kept[i++], m = absorbed[j++];
        RegionEdge& into = edges_[n.edge];
        const RegionEdge& from = edges_[m.edge];
        into.count += from.count;
        into.sum += from.sum;
        into.histogram.add(from.histogram);
        edges_[m.edge].histogram = AffinityHistogram();
        alive_[m.edge] = 0;
        ++version_[n.edge];
        erase(neighbours_[n.region], gone);
        queue(n.edge);
        merged.push_back(n);
      }
    }
    kept = std::move(merged);
  }

  const RegionGraph& graph_;
  const AgglomerationOptions& options_;
  std::vector<RegionEdge> edges_;
  std::vector<uint32_t> version_;
  std::vector<uint8_t> alive_;
  std::vector<std::vector<Neighbour>> neighbours_;
  std::vector<uint32_t> parent_;
  std::priority_queue<Candidate, std::vector<Candidate>, Lower> heap_;
  uint64_t merges_ = 0;
};

}  // namespace

Agglomeration agglomerate(const RegionGraph& graph, const AgglomerationOptions& options) {
  const auto& t = options.thresholds;
  if (t.empty()) throw InputError("give at least one threshold");
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] >= 0 && t[i] <= 1)) throw InputError("thresholds must lie in [0, 1], not " + std::to_string(t[i]));
    if (i > 0 && !(t[i] > t[i - 1])) throw InputError("thresholds must be increasing (e.g. 0.3,0.5,0.7)");
  }
  if (options.percentile && !(*options.percentile >= 0 && *options.percentile <= 100))
    throw InputError("the percentile must lie in [0, 100]");
  Agglomerator agglomerator(graph, options);
  Agglomeration result;
  result.segment_of.resize(t.size());
  result.segments.resize(t.size());
  Progress progress("agglomeration", graph.fragments);
  for (size_t k = t.size(); k-- > 0;) {  // from the highest threshold down: merging only adds
    agglomerator.run_down_to(t[k], progress);
    result.segment_of[k] = agglomerator.snapshot(result.segments[k]);
  }
  result.merges = agglomerator.merges();
  return result;
}

Volume apply_segments(const Volume& fragments, const std::vector<uint32_t>& segment_of) {
  UNIEM_CHECK(fragments.dtype() == DType::u32, "apply_segments: uint32 fragments");
  Volume out(DType::u32, fragments.nz(), fragments.ny(), fragments.nx());
  out.voxel_size = fragments.voxel_size;
  const uint32_t* in = fragments.data<uint32_t>();
  uint32_t* o = out.data<uint32_t>();
  parallel_for(0, fragments.voxels(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      UNIEM_CHECK(in[i] < segment_of.size(), "apply_segments: a fragment id beyond the table");
      o[i] = segment_of[in[i]];
    }
  });
  return out;
}

}  // namespace uniem
