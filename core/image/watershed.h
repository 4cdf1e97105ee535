// Seeded watershed: every unlabelled voxel joins the marker whose flood reaches it first, the
// flood rising through the landscape from its low values (boundary probability, an image, or the
// negated distance transform for splitting touching blobs).
//
// Algorithm: priority flooding (Meyer, "Topographic distance and watershed lines", Signal
// Processing 38, 1994; Beucher and Meyer 1993). Markers seed a queue ordered by landscape value,
// then by the order voxels entered it (so plateaus fill evenly from all sides, as in
// scikit-image's watershed); a voxel takes its label when it is queued from a labelled neighbour.
// Landscapes are 8/16-bit (a bucket queue, one FIFO per value, O(1) per voxel) or float32 (65536
// order-keeping buckets, each with one FIFO per distinct value: exact; float landscapes with at most
// one value per bucket, such as distance transforms, flood as 16-bit levels). With `lines`, a voxel
// reached by two different labels stays 0. The flood is bound by memory latency: watershed.cpp
// keeps a voxel's value, state and label in one cell, in huge pages, and prefetches ahead.
// Voxels outside the mask are never labelled. Connectivity 4/8 floods each section on its own.
#pragma once

#include "core/image/filters.h"
#include "core/image/label.h"
#include "core/image/volume.h"

namespace uniem {

struct WatershedOptions {
  Connectivity connectivity = Connectivity::c6;
  bool lines = false;
};

// markers: integer labels, 0 = to be flooded. mask: optional, nonzero = may be labelled.
// Returns uint32 labels. Throws InputError when shapes differ, markers are not integers or the
// landscape is a 32/64-bit label volume.
Volume watershed(const Volume& landscape, const Volume& markers, const Volume* mask, const WatershedOptions& options);

// Markers at the local maxima of `values` (e.g. a distance transform): voxels equal to the maximum
// of their (2 * min_distance + 1) box and above `threshold`, each connected plateau one marker;
// taken from the highest down, a maximum is dropped when a kept one lies in the box around it
// (as skimage.feature.peak_local_max's min_distance), so markers are min_distance apart. Numbered
// in raster order.
Volume local_maxima_markers(const Volume& values, Extent min_distance, double threshold, Connectivity connectivity);

// Markers at the h-maxima of `values` (core/image/reconstruction.h): the tops of the domes that
// rise at least h above their surroundings, each connected top one marker, numbered in raster
// order. Unlike local_maxima_markers it needs no distance between markers: one wide object with a
// flat or noisy top gives one marker, two objects joined by a neck (a drop of h or more) give two.
Volume h_maxima_markers(const Volume& values, double h, Connectivity connectivity);

// Markers where `values` (a boundary map) is below `level`: each connected region one marker,
// numbered in raster order (uint32). The seeds of the classic segmentation: flood a boundary map
// from its low basins (uniem watershed --seeds-below, uniem demo).
Volume markers_below(const Volume& values, double level, Connectivity connectivity);

// Size-dependent merging of small regions (after Zlateski and Seung, "Image segmentation by
// size-dependent single linkage clustering of a boundary map", arXiv:1505.00249, 2015): for every
// pair of touching regions the lowest point of their common boundary (the higher landscape value
// of two neighbouring voxels, one in each) is found; pairs are taken from the lowest boundary up,
// and two regions merge when either of them (with what merged into it so far) has fewer than
// `min_voxels` voxels. A merged region keeps the id of the larger part (the lower id on a tie).
// So a small basin joins the neighbour it is least separated from. labels: uint32, 0 is left
// alone; landscape: the one the labels were flooded on. Ties between boundaries of equal height
// are taken in the order of the region ids, so the result does not depend on thread counts.
Volume merge_small_regions(const Volume& labels, const Volume& landscape, int64_t min_voxels, Connectivity connectivity);

}  // namespace uniem
