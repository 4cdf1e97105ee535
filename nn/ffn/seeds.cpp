#include "nn/ffn/seeds.h"

#include "core/image/distance.h"
#include "core/image/filters.h"
#include "core/image/gaussian.h"
#include "core/random.h"

namespace uniem::nn::ffn {

std::vector<Zyx> peak_seeds(const Volume& image) {
  const Volume edges = sobel(image, true);
  Volume blurred = edges;
  const double sigma = 49.0 / 6.0;
  gaussian_filter(blurred, {image.nz() > 1 ? sigma : 0, sigma, sigma});
  Volume interior(DType::u8, image.nz(), image.ny(), image.nx());
  const float* e = edges.data<float>();
  const float* b = blurred.data<float>();
  uint8_t* in = interior.data<uint8_t>();
  for (int64_t i = 0; i < interior.elements(); ++i) in[i] = e[i] > b[i] ? 0 : 1;
  Volume distance = distance_transform(interior, {1, 1, 1, true});
  float* d = distance.data<float>();
  for (int64_t i = 0; i < distance.elements(); ++i) {
    if (!std::isfinite(d[i])) d[i] = 1e30f;  // no edge anywhere
    d[i] += static_cast<float>(1e-4 * hash_uniform(42, static_cast<uint64_t>(i)));
  }
  constexpr int64_t r = 3;
  const Volume maxima = box_filter(distance, BoxStatistic::maximum, {image.nz() > 1 ? double(r) : 0.0, double(r), double(r)});
  const float* m = maxima.data<float>();
  std::vector<Zyx> seeds;
  const int64_t nz = image.nz(), ny = image.ny(), nx = image.nx();
  const int64_t rz = nz > 1 ? r : 0;
  for (int64_t z = rz; z < nz - rz; ++z)
    for (int64_t y = r; y < ny - r; ++y)
      for (int64_t x = r; x < nx - r; ++x) {
        const int64_t i = (z * ny + y) * nx + x;
        if (d[i] >= 1.0f && d[i] == m[i]) seeds.push_back({z, y, x});
      }
  return seeds;
}

std::vector<Zyx> grid_seeds(const Zyx& shape, const Zyx& step, const Zyx& margin) {
  std::vector<Zyx> seeds;
  for (int64_t z = margin[0]; z < shape[0] - margin[0]; z += std::max<int64_t>(step[0], 1))
    for (int64_t y = margin[1]; y < shape[1] - margin[1]; y += std::max<int64_t>(step[1], 1))
      for (int64_t x = margin[2]; x < shape[2] - margin[2]; x += std::max<int64_t>(step[2], 1)) seeds.push_back({z, y, x});
  return seeds;
}

}  // namespace uniem::nn::ffn
