#include "nn/tiled_inference.h"

#include <algorithm>
#include <cstring>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/image/border.h"

namespace uniem::nn {
namespace {


// Weight of position i in a tile of `size` whose rims of `ramp` pixels blend with neighbours.
std::vector<float> window(int64_t size, int64_t ramp) {
  std::vector<float> w(static_cast<size_t>(size), 1.0f);
  for (int64_t i = 0; i < ramp; ++i) {
    const double t = (static_cast<double>(i) + 0.5) / static_cast<double>(ramp);
    const auto s = static_cast<float>(t * t * (3 - 2 * t));
    w[static_cast<size_t>(i)] = s;
    w[static_cast<size_t>(size - 1 - i)] = s;
  }
  return w;
}

// Symmetry k of the square (bit 0: flip x, bit 1: flip y, bit 2: transpose) applied to a batch of
// planes, and its inverse: the destination's (y, x) takes the source's (sy, sx).
void transform_planes(const float* src, float* dst, int64_t planes, int64_t size, int k, bool inverse) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* s = src + p * size * size;
    float* d = dst + p * size * size;
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        int64_t sy, sx;
        if (!inverse) {  // forward: flip, then transpose
          int64_t ty = y, tx = x;
          if (k & 4) std::swap(ty, tx);
          sy = (k & 2) ? size - 1 - ty : ty;
          sx = (k & 1) ? size - 1 - tx : tx;
        } else {  // undo: read where the forward put it
          int64_t fy = (k & 2) ? size - 1 - y : y, fx = (k & 1) ? size - 1 - x : x;
          if (k & 4) std::swap(fy, fx);
          sy = fy;
          sx = fx;
        }
        d[y * size + x] = s[sy * size + sx];
      }
  }
}

}  // namespace

TilePlan plan_tiles(int64_t height, int64_t width, int64_t multiple, const TileOptions& o) {
  TilePlan p;
  p.overlap = std::max<int64_t>(0, o.overlap);
  p.margin = p.overlap / 2;
  const int64_t needed = std::max(height, width) + 2 * p.margin;
  p.tile = std::max(multiple, std::min(o.tile, (needed + multiple - 1) / multiple * multiple) / multiple * multiple);
  if (p.overlap > p.tile / 2) {
    p.overlap = p.tile / 2;
    p.margin = p.overlap / 2;
  }
  const int64_t step = p.tile - p.overlap;
  auto count = [&](int64_t n) {
    const int64_t span = n + 2 * p.margin;
    return span <= p.tile ? int64_t{1} : (span - p.tile + step - 1) / step + 1;
  };
  p.tiles_y = count(height);
  p.tiles_x = count(width);
  p.padded_height = (p.tiles_y - 1) * step + p.tile;
  p.padded_width = (p.tiles_x - 1) * step + p.tile;
  return p;
}

std::vector<float> predict_section(Network& network, const LossConfig& loss, const float* image, int64_t height,
                                   int64_t width, const TileOptions& o, PredictStats* stats,
                                   const std::function<void()>& tile_done) {
  NoGradScope no_grad;
  const int64_t channels = network.config().in_channels, classes = network.config().out_channels;
  const TilePlan plan = plan_tiles(height, width, network.size_multiple(), o);
  const int64_t t = plan.tile, step = t - plan.overlap, plane = t * t;
  const std::vector<float> w = window(t, plan.overlap);
  const int64_t ph = plan.padded_height, pw = plan.padded_width;
  std::vector<float> sum(static_cast<size_t>(classes * ph * pw), 0.0f), weight(static_cast<size_t>(ph * pw), 0.0f);
  const int64_t batch = std::max<int64_t>(1, o.batch);
  const int symmetries = o.flips ? 8 : 1;
  std::vector<std::pair<int64_t, int64_t>> origins;
  for (int64_t ty = 0; ty < plan.tiles_y; ++ty)
    for (int64_t tx = 0; tx < plan.tiles_x; ++tx) origins.emplace_back(ty * step, tx * step);

  const Device device = network.device();
  Backend& memory = backend(device);
  bool measured = false;
  std::vector<float> scratch(static_cast<size_t>(channels * plane));
  for (size_t first = 0; first < origins.size(); first += static_cast<size_t>(batch)) {
    const int64_t n = std::min<int64_t>(batch, static_cast<int64_t>(origins.size() - first));
    Tensor input = Tensor::empty({n, channels, t, t});
    float* in = input.data<float>();
    for (int64_t b = 0; b < n; ++b) {
      const auto [oy, ox] = origins[first + static_cast<size_t>(b)];
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 0; y < t; ++y) {
          const int64_t sy = reflect(oy + y - plan.margin, height);
          float* row = in + ((b * channels + c) * t + y) * t;
          const float* src = image + (c * height + sy) * width;
          for (int64_t x = 0; x < t; ++x) row[x] = src[reflect(ox + x - plan.margin, width)];
        }
    }
    std::vector<float> probabilities(static_cast<size_t>(n * classes * plane), 0.0f);
    for (int k = 0; k < symmetries; ++k) {
      Tensor x = input;
      if (k > 0) {
        x = Tensor::empty(input.shape());
        transform_planes(input.data<float>(), x.data<float>(), n * channels, t, k, false);
      }
      if (!measured) memory.reset_peak_bytes();
      const size_t before = memory.peak_bytes();
      Tensor p = activation(loss, network.forward(x.to(device), false)).to(Device::cpu());
      if (!measured && stats) stats->network_bytes = memory.peak_bytes() - before;
      measured = true;
      if (k > 0) {
        Tensor back = Tensor::empty(p.shape());
        transform_planes(p.data<float>(), back.data<float>(), n * classes, t, k, true);
        p = back;
      }
      const float* pp = p.data<float>();
      for (size_t i = 0; i < probabilities.size(); ++i) probabilities[i] += pp[i] / static_cast<float>(symmetries);
    }
    for (int64_t b = 0; b < n; ++b) {
      const auto [oy, ox] = origins[first + static_cast<size_t>(b)];
      // Tiles touching the padded section's edge keep full weight there: nothing blends with them.
      const bool top = oy == 0, left = ox == 0, bottom = oy + t == ph, right = ox + t == pw;
      for (int64_t y = 0; y < t; ++y) {
        const float wy = (top && y < t / 2) || (bottom && y >= t / 2) ? 1.0f : w[static_cast<size_t>(y)];
        for (int64_t x = 0; x < t; ++x) {
          const float wx = (left && x < t / 2) || (right && x >= t / 2) ? 1.0f : w[static_cast<size_t>(x)];
          const float wt = wy * wx;
          const int64_t at = (oy + y) * pw + ox + x;
          weight[static_cast<size_t>(at)] += wt;
          for (int64_t c = 0; c < classes; ++c)
            sum[static_cast<size_t>(c * ph * pw + at)] += wt * probabilities[static_cast<size_t>(((b * classes + c) * t + y) * t + x)];
        }
      }
      if (tile_done) tile_done();
    }
  }
  std::vector<float> out(static_cast<size_t>(classes * height * width));
  for (int64_t c = 0; c < classes; ++c)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const int64_t at = (y + plan.margin) * pw + x + plan.margin;
        out[static_cast<size_t>((c * height + y) * width + x)] = sum[static_cast<size_t>(c * ph * pw + at)] / weight[static_cast<size_t>(at)];
      }
  if (stats) stats->tiles = static_cast<int64_t>(origins.size());
  return out;
}

}  // namespace uniem::nn
