// Seeded watershed: every unlabelled voxel joins the marker whose flood reaches it first, the
// flood rising through the landscape from its low values (boundary probability, an image, or the
// negated distance transform for splitting touching blobs).
//
// Algorithm: priority flooding (Meyer, "Topographic distance and watershed lines", Signal
// Processing 38, 1994; Beucher and Meyer 1993). Markers seed a queue ordered by landscape value,
// then by the order voxels entered it (so plateaus fill evenly from all sides, as in
// scikit-image's watershed); a voxel takes its label when it is queued from a labelled neighbour.
// Landscapes are 8/16-bit (a bucket queue, one FIFO per value, O(1) per voxel) or float32 (65536
// order-keeping buckets of small heaps: exact, O(log of a bucket)). With `lines`, a voxel reached
// by two different labels stays 0.
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
// of their (2 * min_distance + 1) box and above `threshold`, each connected plateau one marker,
// numbered in raster order.
Volume local_maxima_markers(const Volume& values, Extent min_distance, double threshold, Connectivity connectivity);

}  // namespace uniem
