#include "core/image/canny.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/image/convert.h"
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

// The magnitude and sector of one row from the rows above, at and below it. A function of its
// own, with __restrict and the width by value: an 8-bit output may alias anything as far as the
// compiler knows, which otherwise keeps it from vectorising the loop.
void gradient_row(const float* __restrict up, const float* __restrict mid, const float* __restrict down, const int64_t nx,
                  const bool l1, float* __restrict s, float* __restrict d, float* __restrict m, uint8_t* __restrict q) {
  for (int64_t x = 0; x < nx; ++x) {  // s[-1] and s[nx] repeat the ends (the Sobel smoothing and difference)
    s[x] = up[x] + 2 * mid[x] + down[x];
    d[x] = down[x] - up[x];
  }
  s[-1] = s[0], s[nx] = s[nx - 1], d[-1] = d[0], d[nx] = d[nx - 1];
  for (int64_t x = 0; x < nx; ++x) {
    const float gx = s[x + 1] - s[x - 1], gy = d[x - 1] + 2 * d[x] + d[x + 1];
    const float ax = std::abs(gx), ay = std::abs(gy);
    m[x] = l1 ? ax + ay : gx * gx + gy * gy;
    q[x] = ay < ax * tan22 ? across_x : ay - 2 * ax > ax * tan22 ? across_y : (gx < 0) == (gy < 0) ? diagonal_down : diagonal_up;
  }
}

// Non-maximum suppression of one row: 0, 1 (a local maximum above low) or 2 (one above high).
// The magnitude rows have a zero on either side, so the neighbours at x - 1 and x + 1 are always
// there; the four candidates are picked by selects, not branches, so the loop vectorises.
void suppress_row(const float* __restrict up, const float* __restrict mid, const float* __restrict down,
                  const uint8_t* __restrict q, const int64_t nx, const float low, const float high, uint8_t* __restrict out) {
  for (int64_t x = 0; x < nx; ++x) {
    const float m = mid[x], left = mid[x - 1], right = mid[x + 1];  // all eight loaded, then chosen
    const float up_left = up[x - 1], above = up[x], up_right = up[x + 1];
    const float down_left = down[x - 1], below = down[x], down_right = down[x + 1];
    const uint8_t s = q[x];
    const float before = s == across_x ? left : s == across_y ? above : s == diagonal_down ? up_left : up_right;
    const float after = s == across_x ? right : s == across_y ? below : s == diagonal_down ? down_right : down_left;
    // Across x and y the pixel after may be equal (a ridge two pixels wide keeps one), not on diagonals.
    const bool peak = (m > low) & (m > before) & ((m > after) | ((s < diagonal_down) & (m == after)));
    out[x] = static_cast<uint8_t>(peak * (1 + (m > high)));
  }
}

// 255 where the hysteresis reached (3), else 0.
void edge_row(const uint8_t* __restrict state, uint8_t* __restrict out, const int64_t nx) {
  for (int64_t x = 0; x < nx; ++x) out[x] = state[x] == 3 ? 255 : 0;
}

// One section: the magnitude (squared for L2) and the sector of every pixel, then the suppression,
// then the hysteresis. `f` is the section as float, `edges` its part of the output.
void canny_section(const float* f, int64_t ny, int64_t nx, const CannyOptions& o, uint8_t* edges) {
  const int64_t stride = nx + 2;  // magnitude and state rows with a zero column on either side
  const bool l1 = o.l1;
  std::vector<float> magnitude(static_cast<size_t>((ny + 2) * stride), 0.0f);  // and a zero row above and below
  std::vector<uint8_t> sector(static_cast<size_t>(ny * nx));
  const auto row = [&](int64_t y) { return magnitude.data() + (y + 1) * stride + 1; };
  parallel_for(0, ny, 16, [&](int64_t b, int64_t e) {
    std::vector<float> smooth(static_cast<size_t>(nx + 2)), diff(static_cast<size_t>(nx + 2));
    for (int64_t y = b; y < e; ++y) {
      const float* up = f + std::max<int64_t>(y - 1, 0) * nx;  // borders repeat the edge pixel
      const float* mid = f + y * nx;
      const float* down = f + std::min<int64_t>(y + 1, ny - 1) * nx;
      gradient_row(up, mid, down, nx, l1, smooth.data() + 1, diff.data() + 1, row(y), sector.data() + y * nx);
    }
  });
  // Thresholds in the magnitude's units: squared for L2.
  const float low = static_cast<float>(o.l1 ? o.low : o.low * o.low);
  const float high = static_cast<float>(o.l1 ? o.high : o.high * o.high);
  // 0 not an edge, 1 a candidate, 2 an edge; a ring of 0 around the section.
  std::vector<uint8_t> state(static_cast<size_t>((ny + 2) * stride), 0);
  parallel_for(0, ny, 16, [&](int64_t b, int64_t e) {
    for (int64_t y = b; y < e; ++y)
      suppress_row(row(y - 1), row(y), row(y + 1), sector.data() + y * nx, nx, low, high, state.data() + (y + 1) * stride + 1);
  });
  // Hysteresis: grow the edges into the 8-connected candidates, from each edge as the raster scan
  // meets it, so the stack stays small and in cache (3 = an edge already grown from). The ring is
  // never a candidate, so no neighbour needs a bounds check.
  const int64_t around[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
  std::vector<int64_t> stack;
  for (int64_t y = 0; y < ny; ++y) {
    const int64_t first = (y + 1) * stride + 1;
    for (int64_t i = first; i < first + nx; ++i) {
      if (state[static_cast<size_t>(i)] != 2) continue;
      state[static_cast<size_t>(i)] = 3;
      stack.push_back(i);
      while (!stack.empty()) {
        const int64_t p = stack.back();
        stack.pop_back();
        for (int64_t d : around) {
          uint8_t& s = state[static_cast<size_t>(p + d)];
          if (s == 1 || s == 2) {
            s = 3;
            stack.push_back(p + d);
          }
        }
      }
    }
  }
  for (int64_t y = 0; y < ny; ++y) edge_row(state.data() + (y + 1) * stride + 1, edges + y * nx, nx);
}

}  // namespace

Volume canny(const Volume& image, const CannyOptions& o) {
  if (image.channels() != 1) throw InputError("canny needs a one-channel image, not colour");
  if (image.dtype() == DType::u32 || image.dtype() == DType::u64)
    throw InputError(std::string("canny finds edges in images, and this is a ") + dtype_name(image.dtype()) +
                     " volume (label ids?); convert it to 8 or 16 bits first if it really is an image");
  if (!(o.low >= 0 && o.high >= 0 && o.sigma >= 0)) throw InputError("canny: thresholds and sigma must not be negative");
  if (o.low > o.high) throw InputError("canny: the low threshold must not be above the high one");
  // The image as float, smoothed on the way when asked.
  Volume f(DType::f32, image.nz(), image.ny(), image.nx());
  if (o.sigma > 0 && (image.dtype() == DType::u8 || image.dtype() == DType::u16 || image.dtype() == DType::f32)) {
    const auto k = gaussian_kernel(o.sigma);
    separable_filter_sections(image, f, k, k);
  } else {
    f = as_float32(image);
    if (o.sigma > 0) gaussian_filter(f, {0, o.sigma, o.sigma});
  }
  const float* fd = f.data<float>();
  Volume out(DType::u8, image.nz(), image.ny(), image.nx());
  out.voxel_size = image.voxel_size;
  const int64_t plane = image.ny() * image.nx();
  for (int64_t z = 0; z < image.nz(); ++z) canny_section(fd + z * plane, image.ny(), image.nx(), o, out.data<uint8_t>() + z * plane);
  return out;
}

}  // namespace uniem
