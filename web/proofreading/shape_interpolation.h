// Shape interpolation between two painted sections: the outline of a segment on section z1 and on
// section z2 give the shapes of the sections between, as VAST's and webKnossos's "interpolate"
// do for people painting ground truth.
//
// Method (Raya and Udupa, "Shape-based interpolation of multidimensional objects", IEEE TMI 9,
// 1990; with exact Euclidean distances, core/image/distance.h): each mask becomes its signed
// distance map, positive inside,
//     s(p) =  edt(p, outside) - 1/2   for p inside   (distance to the nearest voxel outside)
//     s(p) = -(edt(p, inside) - 1/2)  for p outside  (distance to the nearest voxel inside)
// so that the zero level lies half-way between the boundary voxels of either side. Section k of
// the `gaps` between (t = (k + 1) / (gaps + 1)) holds the voxels where
//     (1 - t) s_first(p) + t s_last(p) > 0.
// Identical masks give themselves back exactly; two concentric discs of radii r1 and r2 give
// discs of radius about (1 - t) r1 + t r2 (within a voxel at the rim, where a digital disc's
// distances are not exactly those of the continuous one). A voxel outside both masks is outside
// every intermediate one (both distances are negative), so the result lies within the union of
// the two masks, and the masks' bounding box is all that needs computing.
// Cost: two 2D distance transforms of the box (O(box), Felzenszwalb and Huttenlocher) and one
// pass per section between; parallel over rows. Everything outside the masks' arrays counts as
// outside (the box is padded by a voxel internally, so a mask touching its edge is exact).
// Limits: for two discs (signed distance r - |p - c|) section t holds the points where
// (1 - t)(r1 - |p - c1|) + t(r2 - |p - c2|) > 0: concentric discs grow or shrink evenly, a disc
// that moves narrows along the move between the sections, and two shapes that do not overlap
// (a process moving by more than its width) leave nothing between: paint a section in between
// first. A shape that splits into two (a branch between the sections) comes out as the two
// growing and shrinking, without the bridge, as with any distance interpolation. Anisotropy
// within a section is ignored (voxels are taken as square in y, x).
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem::web {

// `first` and `last`: uint8 masks of one section each (1, ny, nx), nonzero inside, each with at
// least one voxel inside (UNIEM_CHECK). Returns uint8 (gaps, ny, nx): 1 inside section k's shape.
Volume interpolate_masks(const Volume& first, const Volume& last, int64_t gaps);

}  // namespace uniem::web
