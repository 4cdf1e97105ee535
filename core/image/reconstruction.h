// Grey-level morphological reconstruction and the h-maxima it gives, for watershed markers that
// ignore shallow bumps (a distance-transform maximum only h nm above its surroundings is one
// object, not two).
//
// Reconstruction by dilation of `seed` under `mask` (seed <= mask): the seed dilated again and
// again, never above the mask, until nothing changes; each regional maximum of the mask that the
// seed does not reach is cut off at the level of the highest path to the seed. Algorithm: Vincent,
// "Morphological grayscale reconstruction in image analysis: applications and efficient
// algorithms", IEEE TIP 2(2), 1993, the hybrid one: a raster and an anti-raster scan, then a FIFO
// propagation from the voxels the second scan could still raise. Exact; O(voxels) for most images.
//
// h-maxima (Soille, "Morphological Image Analysis", 2003, 6.3.4): the maxima of `values` whose
// dynamic is at least h, i.e. the voxels where values - R(values - h) >= h, R the reconstruction
// under `values`; as skimage.morphology.h_maxima. Each such voxel is at the top of a dome that
// rises at least h above every path to a higher one.
#pragma once

#include "core/image/label.h"
#include "core/image/volume.h"

namespace uniem {

// Both float32 of one shape; returns float32. Throws InputError when the seed is above the mask.
Volume reconstruct_by_dilation(const Volume& seed, const Volume& mask, Connectivity connectivity);

// uint8 mask, 1 at the voxels of the h-maxima. Any one-channel image; h > 0 in its units.
Volume h_maxima(const Volume& values, double h, Connectivity connectivity);

}  // namespace uniem
