// Where flood filling starts: the seed policies of upstream FFN inference.
//
// peaks: the centres of cells, found without the network. Edges are the 3D Sobel gradient
// magnitude of the image; a voxel is "edge" where that magnitude exceeds its own Gaussian blur
// (sigma 49/6 voxels, an adaptive threshold); the Euclidean distance transform of the non-edge
// voxels is high in cell interiors, and its local maxima (the largest in their 7x7x7 box, at
// least 3 voxels from the border, distance > 0) are the seeds. Plateaus are broken by a fixed
// tiny perturbation (1e-4 x a hash of the voxel index), so the seeds never depend on thread
// count or run. Sorted by (z, y, x) as upstream.
// grid: every `step` voxels along each axis, starting at `margin`.
#pragma once

#include <vector>

#include "core/image/volume.h"
#include "nn/ffn/model.h"

namespace uniem::nn::ffn {

std::vector<Zyx> peak_seeds(const Volume& image);
std::vector<Zyx> grid_seeds(const Zyx& shape, const Zyx& step, const Zyx& margin);

}  // namespace uniem::nn::ffn
