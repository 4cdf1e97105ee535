// Agglomeration of fragments by their affinities: the region graph of a fragment volume with the
// statistics of the affinities across each boundary, and hierarchical agglomeration on it.
//
// Region graph: one edge for every two fragments that touch (6-connected; 0 is background and has
// no edges), holding the voxel pairs across their boundary (fragment a on one side, b on the
// other, the pair's affinity from the affinity volume, core/image/affinities.h): their number,
// the sum of their affinities (an integer, in steps of the stored type: exact for uint8 and
// uint16, 2^-24 for float32) and a 256-bin histogram of them (bin floor(256 a), kept sparse:
// only the bins that occur). Built one section at a time in parallel and summed in integers, so
// it does not depend on the thread count. Memory: O(edges x bins used per edge).
//
// Agglomeration (the hierarchical agglomeration of Lee, Zung, Li, Jain and Seung, "Superhuman
// accuracy on the SNEMI3D connectomics challenge", arXiv:1706.00120, 2017; the region-graph
// statistics after Funke et al., "Large scale image segmentation with structured loss based deep
// learning for connectome reconstruction", TPAMI 2018): repeatedly the two touching regions whose
// edge has the highest score are merged, while that score is at least the threshold. The score is
// the mean affinity of the boundary, or a percentile of it read from the histogram (the centre of
// the bin where the cumulative count reaches the percentile). Merging sums the statistics of the
// edges the two regions had to a common neighbour exactly (counts, sums and histograms add), so
// the score of a merged edge is that of its whole boundary. Merged scores never exceed the score
// of the merge that made them (a mean or a percentile of a union lies between those of its
// parts), so one pass from the highest threshold down gives every threshold's segmentation: a
// snapshot is taken when the best score falls below each. Ties are taken by the smaller region
// ids; the pass is serial and the result does not depend on the thread count. Cost
// O(merges x (neighbours + bins) + edges log edges), with a heap of edges.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

// A 256-bin histogram of affinities, sparse: the nonempty bins in increasing order.
class AffinityHistogram {
 public:
  // Appends a bin after the ones already there (bins in increasing order; count > 0).
  void append(int bin, uint64_t count);
  void add(const AffinityHistogram& other);  // bin by bin
  uint64_t total() const;
  // The bin where the cumulative count first reaches ceil(percent / 100 x total) (at least 1):
  // percent 0 gives the lowest nonempty bin, 50 the median's, 100 the highest. -1 when empty.
  int percentile_bin(double percent) const;
  size_t bins() const { return cells_.size(); }
  int bin(size_t k) const { return static_cast<int>(cells_[k] & 0xff); }
  uint64_t count(size_t k) const { return cells_[k] >> 8; }

 private:
  std::vector<uint64_t> cells_;  // count << 8 | bin
};

struct RegionEdge {
  uint32_t a = 0, b = 0;  // fragment ids, a < b
  uint64_t count = 0;     // voxel pairs across the boundary
  uint64_t sum = 0;       // their affinities, in steps of RegionGraph::unit
  AffinityHistogram histogram;
};

struct RegionGraph {
  uint32_t fragments = 0;         // ids 1..fragments
  std::vector<uint64_t> sizes;    // voxels of each fragment, [0] = background
  std::vector<RegionEdge> edges;  // sorted by (a, b)
  double unit = 1.0 / 255;        // what one step of RegionEdge::sum is

  double mean(const RegionEdge& e) const { return e.count ? static_cast<double>(e.sum) * unit / static_cast<double>(e.count) : 0; }
};

// The affinity a percentile of the histogram stands for: the centre of its bin, (bin + 0.5) / 256.
double percentile_affinity(const AffinityHistogram& histogram, double percent);

// fragments: uint32 ids (affinity_watershed.h); affinities: the same shape, 3 channels. Throws
// InputError when they do not fit each other.
RegionGraph region_graph(const Volume& fragments, const Volume& affinities);

struct AgglomerationOptions {
  std::vector<double> thresholds = {0.5};  // increasing, each in [0, 1]: one segmentation each
  std::optional<double> percentile;        // score by this percentile (0-100) of a boundary; else its mean
};

struct Agglomeration {
  // For each threshold, in the order given: the segment of each fragment (index = fragment id,
  // [0] = 0), segments numbered 1.. in the order of their smallest fragment id (so, for
  // affinity_watershed's fragments, in raster order of their first voxel).
  std::vector<std::vector<uint32_t>> segment_of;
  std::vector<uint32_t> segments;  // how many, per threshold
  uint64_t merges = 0;             // at the lowest threshold
};

// Throws InputError for thresholds outside [0, 1] or not increasing, or a percentile outside
// [0, 100].
Agglomeration agglomerate(const RegionGraph& graph, const AgglomerationOptions& options);

// The score an edge has for `options` (its mean, or the percentile's affinity).
double edge_score(const RegionGraph& graph, const RegionEdge& edge, const AgglomerationOptions& options);

// fragments with every id f replaced by segment_of[f] (uint32).
Volume apply_segments(const Volume& fragments, const std::vector<uint32_t>& segment_of);

}  // namespace uniem
