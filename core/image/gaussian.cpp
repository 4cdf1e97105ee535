#include "core/image/gaussian.h"

#include <cmath>
#include <vector>

#include "core/threads.h"

namespace uniem {
namespace {

std::vector<float> gaussian_kernel(double sigma) {
  const int radius = static_cast<int>(std::ceil(4.0 * sigma));
  std::vector<double> k(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += k[static_cast<size_t>(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
  std::vector<float> out(k.size());
  for (size_t i = 0; i < k.size(); ++i) out[i] = static_cast<float>(k[i] / sum);
  return out;
}

// Reflect index i into [0, n).
int64_t reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

// Filters `count` lines of length n; line j starts at base(j) and steps by `stride` elements.
template <class Base>
void filter_lines(float* data, int64_t count, int64_t n, int64_t stride, const std::vector<float>& kernel, Base base) {
  const int64_t radius = static_cast<int64_t>(kernel.size() / 2);
  parallel_for(0, count, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> line(static_cast<size_t>(n + 2 * radius));
    for (int64_t j = begin; j < end; ++j) {
      float* p = data + base(j);
      for (int64_t i = -radius; i < n + radius; ++i) line[static_cast<size_t>(i + radius)] = p[reflect(i, n) * stride];
      for (int64_t i = 0; i < n; ++i) {
        const float* w = line.data() + i;
        float acc = 0;
        for (size_t k = 0; k < kernel.size(); ++k) acc += w[k] * kernel[k];
        p[i * stride] = acc;
      }
    }
  });
}

}  // namespace

void gaussian_filter(Volume& v, GaussianSigma sigma) {
  UNIEM_CHECK(v.dtype() == DType::f32 && v.channels() == 1, "gaussian_filter needs one float32 channel");
  UNIEM_CHECK(sigma.z >= 0 && sigma.y >= 0 && sigma.x >= 0, "negative sigma");
  float* d = v.data<float>();
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  if (sigma.x > 0 && nx > 1)
    filter_lines(d, nz * ny, nx, 1, gaussian_kernel(sigma.x), [&](int64_t j) { return j * nx; });
  if (sigma.y > 0 && ny > 1)
    filter_lines(d, nz * nx, ny, nx, gaussian_kernel(sigma.y),
                 [&](int64_t j) { return (j / nx) * ny * nx + j % nx; });
  if (sigma.z > 0 && nz > 1)
    filter_lines(d, ny * nx, nz, ny * nx, gaussian_kernel(sigma.z), [&](int64_t j) { return j; });
}

}  // namespace uniem
