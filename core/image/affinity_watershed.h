// The watershed of an affinity graph: fragments (supervoxels) from the 3 nearest-neighbour
// affinities of each voxel (core/image/affinities.h gives the convention), for agglomeration.h.
//
// Algorithm: Zlateski and Seung, "Image segmentation by size-dependent single linkage clustering
// of a watershed basin graph" (arXiv:1505.00249, 2015). Affinities at or above `high` count as
// `high`; those below `low` are removed.
//   1. Steepest ascent: each voxel keeps the edges to neighbours of its largest affinity.
//   2. Plateaus: a voxel with a kept edge leaving its plateau (to a neighbour whose own largest
//      affinity is higher) keeps that one edge; the other plateau voxels are divided among those
//      exits by a breadth-first search from them, each pointing back along the search. Plateaus
//      without an exit (regional maxima, among them every region joined by edges >= high) keep
//      all their edges.
//   3. Basins: the voxels joined by the kept edges, found with union-find.
//   4. Size-dependent single linkage: for every pair of touching basins the largest affinity
//      between them; pairs are taken from the largest down to `size_threshold`, and two regions
//      merge when either has fewer than `size` voxels (with what merged into it so far).
// A voxel with no affinity of at least `low` (inside a membrane when the affinities are certain)
// belongs to no basin: it stays 0, background. Fragments are numbered 1..count in raster order of
// their first voxel. Cost O(voxels) for steps 1-3, plus sorting the basins' touching pairs; one
// uint8 and one uint32 per voxel besides the output. Steps 1 and the pair collection run in
// parallel, the rest serially: the result does not depend on the thread count.
// Volumes of 2^32 voxels or more are refused (fragments are uint32): segment them in blocks.
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

struct AffinityWatershedOptions {
  double high = 0.9999;          // affinities at or above: one basin, joined first
  double low = 0.0001;           // affinities below: never followed
  int64_t size = 25;             // regions under this many voxels merge ...
  double size_threshold = 0.3;   // ... into a neighbour through an affinity at least this
};

struct Fragments {
  Volume labels;       // uint32, 0 = background, 1..count
  uint32_t count = 0;
  uint32_t basins = 0;  // before the size-dependent merging
};

// Throws InputError for affinities that are not 3 channels of uint8, uint16 or float32, and for
// thresholds outside [0, 1] or with low > high.
Fragments affinity_watershed(const Volume& affinities, const AffinityWatershedOptions& options);

}  // namespace uniem
