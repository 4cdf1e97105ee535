// Gaussian smoothing of float32 volumes, separable along z, y and x.
//
// The kernel is the sampled Gaussian exp(-t^2 / 2 sigma^2), normalised to sum 1, truncated at
// 4 sigma (as scipy.ndimage.gaussian_filter). Borders are mirrored without repeating the edge
// voxel's neighbour ("reflect": d c b a | a b c d). Sigmas are in voxels per axis; 0 skips an axis.
// Cost O(voxels * (sum of kernel widths)), parallel over lines.
#pragma once

#include "core/image/volume.h"

namespace uniem {

struct GaussianSigma {
  double z = 0, y = 0, x = 0;  // voxels
};

// In place; `volume` must be float32 with one channel.
void gaussian_filter(Volume& volume, GaussianSigma sigma);

}  // namespace uniem
