#include "core/image/gaussian.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/image/border.h"
#include "core/threads.h"

namespace uniem {

std::vector<float> gaussian_kernel(double sigma) {
  if (sigma <= 0) return {1.0f};
  const int radius = static_cast<int>(std::ceil(4.0 * sigma));
  std::vector<double> k(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += k[static_cast<size_t>(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
  std::vector<float> out(k.size());
  for (size_t i = 0; i < k.size(); ++i) out[i] = static_cast<float>(k[i] / sum);
  return out;
}

namespace {

// Every pass is written as out = sum_k w_k * (input shifted by k) over whole contiguous spans, so
// the inner loop runs along x in memory order and vectorises (8 floats per AVX2 instruction),
// and no pass gathers strided columns. Measured on a 2048^2 image (bench/filters).

// out[x] = sum_k w[k] * in[x + k * step] for x < n: along y (step = a row) or along x (step 1).
// In chunks of 64 outputs held in registers while the taps run, so each tap costs one load and
// one multiply-add per 8 outputs, not a load and store of the sum as well.
inline void correlate(const float* in, int64_t step, const std::vector<float>& w, float* out, int64_t n) {
  constexpr int64_t chunk = 64;
  int64_t x = 0;
  for (; x + chunk <= n; x += chunk) {
    float sum[chunk] = {};
    for (size_t k = 0; k < w.size(); ++k) {
      const float wk = w[k];
      const float* src = in + x + static_cast<int64_t>(k) * step;
      for (int64_t j = 0; j < chunk; ++j) sum[j] += wk * src[j];
    }
    std::copy(sum, sum + chunk, out + x);
  }
  for (; x < n; ++x) {
    float sum = 0;
    for (size_t k = 0; k < w.size(); ++k) sum += w[k] * in[x + static_cast<int64_t>(k) * step];
    out[x] = sum;
  }
}

// Along x: each row copied once into a mirrored, padded buffer, then the shifted sums.
void pass_x(float* d, int64_t rows, int64_t nx, const std::vector<float>& w) {
  const auto r = static_cast<int64_t>(w.size() / 2);
  parallel_for(0, rows, 16, [&](int64_t b, int64_t e) {
    std::vector<float> padded(static_cast<size_t>(nx + 2 * r)), out(static_cast<size_t>(nx));
    for (int64_t row = b; row < e; ++row) {
      float* p = d + row * nx;
      std::copy(p, p + nx, padded.data() + r);  // the mirror index only at the two borders
      for (int64_t i = -r; i < 0; ++i) padded[static_cast<size_t>(i + r)] = p[reflect(i, nx)];
      for (int64_t i = nx; i < nx + r; ++i) padded[static_cast<size_t>(i + r)] = p[reflect(i, nx)];
      correlate(padded.data(), 1, w, out.data(), nx);
      std::copy(out.begin(), out.end(), p);
    }
  });
}

// Along an outer axis of n positions, each a span of `span` floats `step` apart (y: rows of a
// section; z: whole sections): out[i] = sum_k w_k * in[reflect(i + k - r)], span by span.
void pass_outer(float* d, int64_t blocks, int64_t block_stride, int64_t n, int64_t step, int64_t span,
                const std::vector<float>& w) {
  const auto r = static_cast<int64_t>(w.size() / 2);
  constexpr int64_t tile = 512;  // floats of each span at a time: the input rows stay in cache
  const int64_t tiles = (span + tile - 1) / tile;
  parallel_for(0, blocks * tiles, 4, [&](int64_t b, int64_t e) {
    std::vector<float> in(static_cast<size_t>(n * tile)), out(static_cast<size_t>(tile));
    for (int64_t task = b; task < e; ++task) {
      float* base = d + (task / tiles) * block_stride + (task % tiles) * tile;
      const int64_t width = std::min(tile, span - (task % tiles) * tile);
      for (int64_t i = 0; i < n; ++i) std::copy(base + i * step, base + i * step + width, in.data() + i * tile);
      for (int64_t i = 0; i < n; ++i) {
        if (i >= r && i + r < n) {  // no mirrored row among the taps: one stride
          correlate(in.data() + (i - r) * tile, tile, w, out.data(), width);
          std::copy(out.begin(), out.begin() + width, base + i * step);
          continue;
        }
        std::fill(out.begin(), out.begin() + width, 0.0f);
        for (size_t k = 0; k < w.size(); ++k) {
          const float wk = w[k];
          const float* src = in.data() + reflect(i + static_cast<int64_t>(k) - r, n) * tile;
          for (int64_t x = 0; x < width; ++x) out[static_cast<size_t>(x)] += wk * src[x];
        }
        std::copy(out.begin(), out.begin() + width, base + i * step);
      }
    }
  });
}

}  // namespace

void separable_filter(Volume& v, const std::vector<float>& kz, const std::vector<float>& ky, const std::vector<float>& kx) {
  UNIEM_CHECK(v.dtype() == DType::f32 && v.channels() == 1, "separable_filter needs one float32 channel");
  UNIEM_CHECK(kz.size() % 2 == 1 && ky.size() % 2 == 1 && kx.size() % 2 == 1, "kernels have odd lengths");
  float* d = v.data<float>();
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  if (kx.size() > 1 && nx > 1) pass_x(d, nz * ny, nx, kx);
  if (ky.size() > 1 && ny > 1) pass_outer(d, nz, ny * nx, ny, nx, nx, ky);
  if (kz.size() > 1 && nz > 1) pass_outer(d, 1, 0, nz, ny * nx, ny * nx, kz);
  // A kernel of length 1 scales: apply it where the pass above was skipped.
  const float scale = (kx.size() == 1 ? kx[0] : 1.0f) * (ky.size() == 1 ? ky[0] : 1.0f) * (kz.size() == 1 ? kz[0] : 1.0f);
  if (scale != 1.0f)
    for (int64_t i = 0; i < v.elements(); ++i) d[i] *= scale;
}

void gaussian_filter(Volume& v, GaussianSigma sigma) {
  UNIEM_CHECK(sigma.z >= 0 && sigma.y >= 0 && sigma.x >= 0, "negative sigma");
  separable_filter(v, gaussian_kernel(sigma.z), gaussian_kernel(sigma.y), gaussian_kernel(sigma.x));
}

namespace {

// Integer results are rounded to nearest, ties to even, as std::nearbyint, and clamped to the
// type's range. Adding and taking away 2^23 rounds a float of magnitude below 2^22 (the sums of
// 8/16-bit values with weights that add up to 1 are), and the clamp is on integers: float
// comparisons may trap, so GCC will not turn them into branch-free vector code.
template <class Out>
Out round_to(float v) {
  if constexpr (std::is_floating_point_v<Out>) {
    return v;
  } else {
    constexpr int32_t hi = std::numeric_limits<Out>::max();
    int32_t r = static_cast<int32_t>((v + 8388608.0f) - 8388608.0f);
    r = r < 0 ? 0 : r;
    return static_cast<Out>(r > hi ? hi : r);
  }
}

// __restrict: an 8-bit output row may alias anything as far as the compiler knows, which keeps it
// from vectorising the conversion.
template <class Out>
void store_row(const float* __restrict from, Out* __restrict to, int64_t n) {
  for (int64_t x = 0; x < n; ++x) to[x] = round_to<Out>(from[x]);
}

template <class In, class Out>
void filter_sections(const Volume& input, Volume& output, const std::vector<float>& ky, const std::vector<float>& kx) {
  const int64_t nz = input.nz(), ny = input.ny(), nx = input.nx();
  const auto ry = static_cast<int64_t>(ky.size() / 2), rx = static_cast<int64_t>(kx.size() / 2);
  const In* in = input.data<In>();
  Out* out = output.data<Out>();
  constexpr int64_t block = 32;  // output rows per task: their input rows, as float, stay in cache
  const int64_t blocks = (ny + block - 1) / block;
  parallel_for(0, nz * blocks, 1, [&](int64_t b, int64_t e) {
    std::vector<float> rows(static_cast<size_t>((block + 2 * ry) * nx)), column(static_cast<size_t>(nx + 2 * rx)),
        line(static_cast<size_t>(nx));
    for (int64_t task = b; task < e; ++task) {
      const int64_t z = task / blocks, y0 = (task % blocks) * block, y1 = std::min(ny, y0 + block);
      const In* section = in + z * ny * nx;
      // Input rows y0 - ry .. y1 + ry - 1 (mirrored), converted once.
      for (int64_t y = y0 - ry; y < y1 + ry; ++y) {
        const In* src = section + reflect(y, ny) * nx;
        float* dst = rows.data() + (y - y0 + ry) * nx;
        for (int64_t x = 0; x < nx; ++x) dst[x] = static_cast<float>(src[x]);
      }
      for (int64_t y = y0; y < y1; ++y) {
        float* acc = column.data() + rx;  // along y first, into the middle of a padded row
        correlate(rows.data() + (y - y0) * nx, nx, ky, acc, nx);
        for (int64_t i = 1; i <= rx; ++i) {  // mirror the ends, then along x
          acc[-i] = acc[reflect(-i, nx)];
          acc[nx - 1 + i] = acc[reflect(nx - 1 + i, nx)];
        }
        correlate(acc - rx, 1, kx, line.data(), nx);
        store_row(line.data(), out + (z * ny + y) * nx, nx);
      }
    }
  });
}

}  // namespace

void separable_filter_sections(const Volume& input, Volume& output, const std::vector<float>& ky, const std::vector<float>& kx) {
  UNIEM_CHECK(input.channels() == 1 && output.channels() == 1 && input.shape() == output.shape(), "one channel, one shape");
  UNIEM_CHECK(ky.size() % 2 == 1 && kx.size() % 2 == 1, "kernels have odd lengths");
  const auto with_output = [&](auto in_tag) {
    using In = decltype(in_tag);
    switch (output.dtype()) {
      case DType::u8: return filter_sections<In, uint8_t>(input, output, ky, kx);
      case DType::u16: return filter_sections<In, uint16_t>(input, output, ky, kx);
      case DType::f32: return filter_sections<In, float>(input, output, ky, kx);
      default: UNIEM_CHECK(false, "separable_filter_sections: uint8, uint16 or float32 output");
    }
  };
  switch (input.dtype()) {
    case DType::u8: return with_output(uint8_t{});
    case DType::u16: return with_output(uint16_t{});
    case DType::f32: return with_output(float{});
    default: UNIEM_CHECK(false, "separable_filter_sections: uint8, uint16 or float32 input");
  }
}

}  // namespace uniem
