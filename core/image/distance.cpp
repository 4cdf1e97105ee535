#include "core/image/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/threads.h"

namespace uniem {
namespace {

constexpr float infinite = std::numeric_limits<float>::infinity();

// One line of the lower-envelope pass: d[i] = min_q f[q] + (w (i - q))^2, f given as squared
// distances (infinite where unknown). v, z and out are scratch of length n, n + 1 and n.
void envelope(const float* f, int64_t n, double w, std::vector<int64_t>& v, std::vector<double>& z, float* out) {
  const double w2 = w * w;
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == infinite) continue;
    const double fq = f[q] + w2 * static_cast<double>(q) * static_cast<double>(q);
    double s = 0;
    while (k >= 0) {
      const int64_t p = v[static_cast<size_t>(k)];
      s = (fq - (f[p] + w2 * static_cast<double>(p) * static_cast<double>(p))) / (2 * w2 * static_cast<double>(q - p));
      if (s > z[static_cast<size_t>(k)]) break;
      --k;
    }
    ++k;
    v[static_cast<size_t>(k)] = q;
    z[static_cast<size_t>(k)] = k == 0 ? -std::numeric_limits<double>::infinity() : s;
    z[static_cast<size_t>(k) + 1] = std::numeric_limits<double>::infinity();
  }
  if (k < 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = infinite;
    return;
  }
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i) {
    while (z[static_cast<size_t>(j) + 1] < static_cast<double>(i)) ++j;
    const int64_t p = v[static_cast<size_t>(j)];
    const double d = static_cast<double>(i - p) * w;
    out[i] = static_cast<float>(d * d + f[p]);
  }
}

// Envelope pass along an axis of length n (element stride `stride`) for every line (o, x):
// o < outer counts the other axis (its lines start o * outer_stride apart), x < nx the columns.
// Lines of neighbouring x are done 16 at a time, gathered into a buffer: each position then
// reads one 64-byte cache line instead of 16 scattered floats (the z stride of a 512^3 volume
// is 1 MiB, so one-line-at-a-time gathers miss the cache and the TLB at every element).
void pass(float* d, int64_t outer, int64_t outer_stride, int64_t nx, int64_t n, int64_t stride, double w) {
  constexpr int64_t group = 16;
  const int64_t groups_per_outer = (nx + group - 1) / group;
  parallel_for(0, outer * groups_per_outer, 4, [&](int64_t b, int64_t e) {
    std::vector<float> block(static_cast<size_t>(n * group)), line(static_cast<size_t>(n)), result(static_cast<size_t>(n));
    std::vector<int64_t> v(static_cast<size_t>(n));
    std::vector<double> z(static_cast<size_t>(n) + 1);
    for (int64_t task = b; task < e; ++task) {
      const int64_t o = task / groups_per_outer, x0 = (task % groups_per_outer) * group;
      const int64_t width = std::min(group, nx - x0);
      float* base = d + o * outer_stride + x0;
      for (int64_t i = 0; i < n; ++i)
        std::copy(base + i * stride, base + i * stride + width, block.data() + i * group);
      for (int64_t c = 0; c < width; ++c) {
        for (int64_t i = 0; i < n; ++i) line[static_cast<size_t>(i)] = block[static_cast<size_t>(i * group + c)];
        envelope(line.data(), n, w, v, z, result.data());
        for (int64_t i = 0; i < n; ++i) block[static_cast<size_t>(i * group + c)] = result[static_cast<size_t>(i)];
      }
      for (int64_t i = 0; i < n; ++i) std::copy(block.data() + i * group, block.data() + i * group + width, base + i * stride);
    }
  });
}

}  // namespace

Volume distance_transform(const Volume& mask, VoxelSize spacing, bool sections_only) {
  if (mask.channels() != 1) throw InputError("the distance transform needs a one-channel mask, not colour");
  if (!(spacing.x > 0 && spacing.y > 0 && spacing.z > 0)) throw InputError("voxel sizes for the distance transform must be positive");
  const int64_t nz = mask.nz(), ny = mask.ny(), nx = mask.nx();
  Volume out(DType::f32, nz, ny, nx);
  out.voxel_size = mask.voxel_size;
  float* d = out.data<float>();
  // Pass along x: squared distance to the nearest zero on the row, two sweeps.
  visit_dtype(mask.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* m = mask.data<T>();
    parallel_for(0, nz * ny, 64, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* row = m + r * nx;
        float* o = d + r * nx;
        double last = -std::numeric_limits<double>::infinity();
        for (int64_t x = 0; x < nx; ++x) {
          if (row[x] == T{0}) last = static_cast<double>(x);
          o[x] = static_cast<float>(static_cast<double>(x) - last);  // +inf before the first zero
        }
        last = std::numeric_limits<double>::infinity();
        for (int64_t x = nx - 1; x >= 0; --x) {
          if (row[x] == T{0}) last = static_cast<double>(x);
          const double dist = std::min(static_cast<double>(o[x]), last - static_cast<double>(x)) * spacing.x;
          o[x] = std::isinf(dist) ? infinite : static_cast<float>(dist * dist);
        }
      }
    });
  });
  if (ny > 1) pass(d, nz, ny * nx, nx, ny, nx, spacing.y);                        // lines along y: (z, x)
  if (nz > 1 && !sections_only) pass(d, ny, nx, nx, nz, ny * nx, spacing.z);      // lines along z: (y, x)
  parallel_for(0, out.elements(), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = std::sqrt(d[i]);
  });
  return out;
}

}  // namespace uniem
