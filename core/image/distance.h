// Exact Euclidean distance transform, anisotropic.
//
// For every nonzero voxel, the distance to the nearest zero voxel, in the units of `spacing`
// (nm with the volume's voxel size, voxels with 1,1,1); zero voxels get 0. The same as
// scipy.ndimage.distance_transform_edt(mask, sampling=spacing). Voxels with no zero voxel
// anywhere in the volume get +infinity.
//
// Algorithm: Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions", Theory of
// Computing 8, 2012: the squared distance is separable, so one pass along x (nearest zero on the
// line), then one along y and one along z, each taking for every line the lower envelope of the
// parabolas (spacing * (p - q))^2 + f(q). Exact, O(voxels) per pass, parallel over lines.
// With `sections_only`, only x and y: the 2D transform of each section.
#pragma once

#include "core/image/volume.h"

namespace uniem {

// Returns float32. Throws InputError for colour volumes or non-positive spacing.
Volume distance_transform(const Volume& mask, VoxelSize spacing, bool sections_only = false);

}  // namespace uniem
