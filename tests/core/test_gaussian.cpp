#include <doctest/doctest.h>

#include <cmath>

#include "core/image/gaussian.h"

using namespace uniem;

TEST_CASE("Gaussian smoothing keeps a constant, conserves mass away from borders, and has the right width") {
  Volume flat(DType::f32, 3, 9, 11);
  for (int64_t i = 0; i < flat.elements(); ++i) flat.data<float>()[i] = 5;
  gaussian_filter(flat, {1.0, 1.5, 2.0});
  for (int64_t i = 0; i < flat.elements(); ++i) REQUIRE(flat.data<float>()[i] == doctest::Approx(5).epsilon(1e-6));

  // An impulse in x spreads into the sampled Gaussian: its variance is sigma^2.
  Volume line(DType::f32, 1, 1, 101);
  line.at<float>(0, 0, 50) = 1;
  gaussian_filter(line, {0, 0, 3.0});
  double sum = 0, variance = 0;
  for (int64_t x = 0; x < 101; ++x) {
    sum += line.at<float>(0, 0, x);
    variance += line.at<float>(0, 0, x) * (x - 50.0) * (x - 50.0);
  }
  CHECK(sum == doctest::Approx(1).epsilon(1e-5));
  CHECK(variance == doctest::Approx(9).epsilon(1e-3));
  // scipy.ndimage.gaussian_filter1d(impulse, 3)[50] = 0.13298076 (truncate 4)
  CHECK(line.at<float>(0, 0, 50) == doctest::Approx(0.13298076).epsilon(1e-5));
}

TEST_CASE("borders mirror: an edge step stays symmetric under reflection") {
  Volume v(DType::f32, 1, 1, 6);
  for (int64_t x = 0; x < 6; ++x) v.at<float>(0, 0, x) = static_cast<float>(x);
  gaussian_filter(v, {0, 0, 1.0});
  // Reflect mode: the signal continues as ... 1 0 | 0 1 2 3 4 5 | 5 4 ...; the mean is kept.
  double sum = 0;
  for (int64_t x = 0; x < 6; ++x) sum += v.at<float>(0, 0, x);
  CHECK(sum == doctest::Approx(15).epsilon(1e-5));
  CHECK(v.at<float>(0, 0, 0) + v.at<float>(0, 0, 5) == doctest::Approx(5).epsilon(1e-5));
}
