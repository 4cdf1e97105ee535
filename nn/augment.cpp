#include "nn/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/image/border.h"

namespace uniem::nn {
namespace {

// Source pixel of (y, x) under symmetry k of a size x size square: bit 0 flips x, bit 1 flips y,
// bit 2 transposes (the composition covers all 8).
inline void symmetry_source(int k, int64_t size, int64_t y, int64_t x, int64_t& sy, int64_t& sx) {
  if (k & 4) std::swap(y, x);
  sy = (k & 2) ? size - 1 - y : y;
  sx = (k & 1) ? size - 1 - x : x;
}

template <class T>
void apply_symmetry(T* data, int64_t channels, int64_t size, int k, std::vector<T>& scratch) {
  const int64_t plane = size * size;
  for (int64_t c = 0; c < channels; ++c) {
    T* p = data + c * plane;
    scratch.assign(p, p + plane);
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        int64_t sy, sx;
        symmetry_source(k, size, y, x, sy, sx);
        p[y * size + x] = scratch[static_cast<size_t>(sy * size + sx)];
      }
  }
}


void elastic_deform(float* image, int64_t channels, uint8_t* target, int64_t target_channels, int64_t size,
                    const AugmentOptions& o, Random& random) {
  const int64_t spacing = std::max<int64_t>(4, o.elastic_spacing);
  const int64_t grid = size / spacing + 2;  // control points cover [0, size] with one beyond
  std::vector<double> dy(static_cast<size_t>(grid * grid)), dx(dy.size());
  for (size_t i = 0; i < dy.size(); ++i) {
    dy[i] = random.normal() * o.elastic;
    dx[i] = random.normal() * o.elastic;
  }
  const int64_t plane = size * size;
  std::vector<float> src_image(image, image + channels * plane);
  std::vector<uint8_t> src_target(target, target + target_channels * plane);
  for (int64_t y = 0; y < size; ++y) {
    const double gy = static_cast<double>(y) / static_cast<double>(spacing);
    const int64_t iy = static_cast<int64_t>(gy);
    const double fy = gy - static_cast<double>(iy);
    for (int64_t x = 0; x < size; ++x) {
      const double gx = static_cast<double>(x) / static_cast<double>(spacing);
      const int64_t ix = static_cast<int64_t>(gx);
      const double fx = gx - static_cast<double>(ix);
      auto field = [&](const std::vector<double>& d) {
        const size_t a = static_cast<size_t>(iy * grid + ix);
        return (1 - fy) * ((1 - fx) * d[a] + fx * d[a + 1]) + fy * ((1 - fx) * d[a + static_cast<size_t>(grid)] + fx * d[a + static_cast<size_t>(grid) + 1]);
      };
      const double sy = static_cast<double>(y) + field(dy), sx = static_cast<double>(x) + field(dx);
      const int64_t y0 = static_cast<int64_t>(std::floor(sy)), x0 = static_cast<int64_t>(std::floor(sx));
      const double wy = sy - static_cast<double>(y0), wx = sx - static_cast<double>(x0);
      const int64_t ya = reflect(y0, size), yb = reflect(y0 + 1, size), xa = reflect(x0, size), xb = reflect(x0 + 1, size);
      for (int64_t c = 0; c < channels; ++c) {
        const float* s = src_image.data() + c * plane;
        image[c * plane + y * size + x] = static_cast<float>(
            (1 - wy) * ((1 - wx) * s[ya * size + xa] + wx * s[ya * size + xb]) + wy * ((1 - wx) * s[yb * size + xa] + wx * s[yb * size + xb]));
      }
      const int64_t ny = wy < 0.5 ? ya : yb, nx = wx < 0.5 ? xa : xb;
      for (int64_t c = 0; c < target_channels; ++c) target[c * plane + y * size + x] = src_target[static_cast<size_t>(c * plane + ny * size + nx)];
    }
  }
}

}  // namespace

void augment(float* image, int64_t channels, uint8_t* target, int64_t target_channels, int64_t size,
             const AugmentOptions& o, Random& random) {
  const int64_t plane = size * size;
  if (o.symmetries) {
    const int k = static_cast<int>(random.integer(0, 7));
    std::vector<float> fs;
    std::vector<uint8_t> bs;
    apply_symmetry(image, channels, size, k, fs);
    apply_symmetry(target, target_channels, size, k, bs);
  }
  if (o.elastic > 0) elastic_deform(image, channels, target, target_channels, size, o, random);
  if (o.contrast > 0 || o.brightness > 0) {
    const double c = 1 + random.uniform(-o.contrast, o.contrast), b = random.uniform(-o.brightness, o.brightness);
    double mean = 0;
    for (int64_t i = 0; i < channels * plane; ++i) mean += image[i];
    mean /= static_cast<double>(channels * plane);
    for (int64_t i = 0; i < channels * plane; ++i) image[i] = static_cast<float>((image[i] - mean) * c + mean + b);
  }
  if (o.defects > 0 && random.uniform() < o.defects) {
    int64_t y0, y1, x0, x1;
    if (random.uniform() < 0.5) {  // rectangle
      const int64_t h = random.integer(size / 8, size / 2), w = random.integer(size / 8, size / 2);
      y0 = random.integer(0, size - h);
      x0 = random.integer(0, size - w);
      y1 = y0 + h;
      x1 = x0 + w;
    } else {  // stripe across the crop
      const int64_t width = random.integer(2, 16), at = random.integer(0, size - width);
      const bool horizontal = random.uniform() < 0.5;
      y0 = horizontal ? at : 0;
      y1 = horizontal ? at + width : size;
      x0 = horizontal ? 0 : at;
      x1 = horizontal ? size : at + width;
    }
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = y0; y < y1; ++y) std::fill(image + c * plane + y * size + x0, image + c * plane + y * size + x1, 0.0f);
  }
  if (o.missing > 0 && random.uniform() < o.missing) {
    std::fill(image, image + channels * plane, 0.0f);
    for (int64_t i = 0; i < target_channels * plane; ++i)
      if (target[i] != 255) target[i] = 0;
  }
}

}  // namespace uniem::nn
