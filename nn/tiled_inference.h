// Inference on sections of any size: overlapping square tiles, blended without seams.
//
// The section is mirrored outward by half the overlap (and further at the high end so whole tiles
// cover it), cut into tiles of `tile` pixels that advance by tile - overlap, and each tile's
// probabilities are weighted by a window that is 1 inside and falls along the overlap as a
// smoothstep s(t) = 3t^2 - 2t^3. Since s(t) + s(1 - t) = 1, two tiles' weights sum to 1 across
// their overlap: the blend is a partition of unity, so no seam is possible, and the pixels the
// network sees with the least context (the tile rim) weigh least. With `flips`, each tile is also
// predicted under the 7 other symmetries of the square and the results are averaged.
//
// Memory: the network's activations for `batch` tiles plus two float canvases of the padded
// section (probabilities and weights); predict_section() measures the first.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "nn/losses.h"
#include "nn/network.h"

namespace uniem::nn {

struct TileOptions {
  int64_t tile = 512;     // rounded down to the network's size multiple; shrunk for small sections
  int64_t overlap = 64;   // pixels shared by neighbouring tiles
  int64_t batch = 1;      // tiles per forward pass
  bool flips = false;     // test-time augmentation: average over the 8 symmetries
};

struct TilePlan {
  int64_t tile = 0, overlap = 0, margin = 0;  // margin: mirrored border on the low sides
  int64_t tiles_y = 0, tiles_x = 0;
  int64_t padded_height = 0, padded_width = 0;
  int64_t tiles() const { return tiles_y * tiles_x; }
};
TilePlan plan_tiles(int64_t height, int64_t width, int64_t size_multiple, const TileOptions& o);

// image (C, H, W) in [0, 1] -> probabilities (K, H, W). The network runs in inference mode
// (running batch-norm statistics), without gradients. tile_done() is called after each tile.
struct PredictStats {
  size_t network_bytes = 0;  // peak tensor memory of one forward pass over `batch` tiles
  int64_t tiles = 0;
};
std::vector<float> predict_section(Network& network, const LossConfig& loss, const float* image, int64_t height,
                                   int64_t width, const TileOptions& o, PredictStats* stats = nullptr,
                                   const std::function<void()>& tile_done = {});

}  // namespace uniem::nn
