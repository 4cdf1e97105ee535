#include "core/image/canny.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/image/gaussian.h"
#include "core/threads.h"

namespace uniem {
namespace {

// The gradient direction, quantised: which two neighbours non-maximum suppression compares.
enum Sector : uint8_t { across_x = 0, across_y = 1, diagonal_down = 2, diagonal_up = 3 };

// tan(22.5 degrees) as OpenCV's fixed point, 13573 / 32768, so that integer gradients fall in the
// same sector as there; tan(67.5) is tan(22.5) + 2. In float, |g| * tan22 and |gy| - 2 |gx| are
// exact for the gradients of 8-bit images, so the comparisons below are OpenCV's to the bit.
constexpr float tan22 = 13573.0f / 32768.0f;

// One section: the magnitude (squared for L2) and the sector of every pixel, then the suppression,
// then the hysteresis. `f` is the section as float, `edges` its part of the output.
void canny_section(const float* f, int64_t ny, int64_t nx, const CannyOptions& o, uint8_t* edges) {
  const auto n = static_cast<size_t>(ny * nx);
  const bool l1 = o.l1;
  std::vector<float> magnitude(n);
  std::vector<uint8_t> sector(n);
  parallel_for(0, ny, 16, [&](int64_t b, int64_t e) {
    std::vector<float> smooth(static_cast<size_t>(nx + 2)), diff(static_cast<size_t>(nx + 2));
    for (int64_t y = b; y < e; ++y) {
      const float* up = f + std::max<int64_t>(y - 1, 0) * nx;  // borders repeat the edge pixel
      const float* mid = f + y * nx;
      const float* down = f + std::min<int64_t>(y + 1, ny - 1) * nx;
      float* s = smooth.data() + 1;  // s[-1] and s[nx] repeat the ends
      float* d = diff.data() + 1;
      for (int64_t x = 0; x < nx; ++x) {
        s[x] = up[x] + 2 * mid[x] + down[x];
        d[x] = down[x] - up[x];
      }
      s[-1] = s[0], s[nx] = s[nx - 1], d[-1] = d[0], d[nx] = d[nx - 1];
      float* m = magnitude.data() + y * nx;
      uint8_t* q = sector.data() + y * nx;
      for (int64_t x = 0; x < nx; ++x) {
        const float gx = s[x + 1] - s[x - 1], gy = d[x - 1] + 2 * d[x] + d[x + 1];
        const float ax = std::abs(gx), ay = std::abs(gy);
        m[x] = l1 ? ax + ay : gx * gx + gy * gy;
        q[x] = ay < ax * tan22 ? across_x : ay - 2 * ax > ax * tan22 ? across_y : (gx < 0) == (gy < 0) ? diagonal_down : diagonal_up;
      }
    }
  });
  // Thresholds in the magnitude's units: squared for L2.
  const float low = static_cast<float>(o.l1 ? o.low : o.low * o.low);
  const float high = static_cast<float>(o.l1 ? o.high : o.high * o.high);
  // 0 not an edge, 1 a candidate (a local maximum above low), 2 an edge.
  std::fill(edges, edges + n, 0);
  const auto at = [&](int64_t y, int64_t x) {
    return y < 0 || y >= ny || x < 0 || x >= nx ? 0.0f : magnitude[static_cast<size_t>(y * nx + x)];
  };
  parallel_for(0, ny, 16, [&](int64_t b, int64_t e) {
    for (int64_t y = b; y < e; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const size_t i = static_cast<size_t>(y * nx + x);
        const float m = magnitude[i];
        if (!(m > low)) continue;
        bool peak;
        switch (sector[i]) {
          case across_x: peak = m > at(y, x - 1) && m >= at(y, x + 1); break;
          case across_y: peak = m > at(y - 1, x) && m >= at(y + 1, x); break;
          case diagonal_down: peak = m > at(y - 1, x - 1) && m > at(y + 1, x + 1); break;
          default: peak = m > at(y - 1, x + 1) && m > at(y + 1, x - 1); break;
        }
        if (peak) edges[i] = m > high ? 2 : 1;
      }
  });
  // Hysteresis: grow the edges into the 8-connected candidates.
  std::vector<int64_t> stack;
  for (size_t i = 0; i < n; ++i)
    if (edges[i] == 2) stack.push_back(static_cast<int64_t>(i));
  while (!stack.empty()) {
    const int64_t i = stack.back();
    stack.pop_back();
    const int64_t y = i / nx, x = i % nx;
    for (int64_t dy = -1; dy <= 1; ++dy)
      for (int64_t dx = -1; dx <= 1; ++dx) {
        const int64_t qy = y + dy, qx = x + dx;
        if (qy < 0 || qy >= ny || qx < 0 || qx >= nx) continue;
        uint8_t& state = edges[qy * nx + qx];
        if (state == 1) {
          state = 2;
          stack.push_back(qy * nx + qx);
        }
      }
  }
  for (size_t i = 0; i < n; ++i) edges[i] = edges[i] == 2 ? 255 : 0;
}

}  // namespace

Volume canny(const Volume& image, const CannyOptions& o) {
  if (image.channels() != 1) throw InputError("canny needs a one-channel image, not colour");
  if (image.dtype() == DType::u32 || image.dtype() == DType::u64)
    throw InputError(std::string("canny finds edges in images, and this is a ") + dtype_name(image.dtype()) +
                     " volume (label ids?); convert it to 8 or 16 bits first if it really is an image");
  if (!(o.low >= 0 && o.high >= 0 && o.sigma >= 0)) throw InputError("canny: thresholds and sigma must not be negative");
  if (o.low > o.high) throw InputError("canny: the low threshold must not be above the high one");
  // The section as float, smoothed on the way when asked.
  Volume f(DType::f32, image.nz(), image.ny(), image.nx());
  float* fd = f.data<float>();
  if (o.sigma > 0 && (image.dtype() == DType::u8 || image.dtype() == DType::u16 || image.dtype() == DType::f32)) {
    const auto k = gaussian_kernel(o.sigma);
    separable_filter_sections(image, f, k, k);
  } else {
    visit_dtype(image.dtype(), [&](auto t) {
      const auto* in = image.data<decltype(t)>();
      parallel_for(0, image.elements(), 1 << 16, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) fd[i] = static_cast<float>(in[i]);
      });
    });
    if (o.sigma > 0) gaussian_filter(f, {0, o.sigma, o.sigma});
  }
  Volume out(DType::u8, image.nz(), image.ny(), image.nx());
  out.voxel_size = image.voxel_size;
  const int64_t plane = image.ny() * image.nx();
  for (int64_t z = 0; z < image.nz(); ++z) canny_section(fd + z * plane, image.ny(), image.nx(), o, out.data<uint8_t>() + z * plane);
  return out;
}

}  // namespace uniem
