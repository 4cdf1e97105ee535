#include <doctest/doctest.h>

#include <cmath>

#include "core/image/distance.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(UNIEM_TEST_FIXTURES) / "image" / "fixtures";
}

TEST_CASE("known distances: a single zero voxel in the middle, anisotropic") {
  Volume v(DType::u8, 5, 5, 5);
  for (int64_t i = 0; i < v.elements(); ++i) v.data<uint8_t>()[i] = 1;
  v.at<uint8_t>(2, 2, 2) = 0;
  const Volume d = distance_transform(v, {4, 1, 2, true});
  CHECK(d.at<float>(2, 2, 2) == 0);
  CHECK(d.at<float>(2, 2, 3) == doctest::Approx(2));
  CHECK(d.at<float>(2, 4, 2) == doctest::Approx(2));
  CHECK(d.at<float>(3, 2, 2) == doctest::Approx(4));
  CHECK(d.at<float>(0, 0, 0) == doctest::Approx(std::sqrt(8.0 * 8 + 2 * 2 + 4 * 4)));
  const Volume flat = distance_transform(v, {4, 1, 2, true}, true);  // sections alone
  CHECK(std::isinf(flat.at<float>(0, 2, 2)));
  CHECK(flat.at<float>(2, 0, 0) == doctest::Approx(std::sqrt(2.0 * 2 + 4 * 4)));
}

TEST_CASE("exact against scipy.ndimage.distance_transform_edt, 3D and per section") {
  const Volume mask = read_volume(fixtures / "dist_mask.tif");
  const VoxelSize sampling{3.0, 1.0, 1.5, true};
  for (bool sections : {false, true}) {
    CAPTURE(sections);
    const Volume ours = distance_transform(mask, sampling, sections);
    const Volume scipy = read_volume(fixtures / (sections ? "dist2d.tif" : "dist.tif"));
    REQUIRE(ours.shape() == scipy.shape());
    double worst = 0;
    for (int64_t i = 0; i < ours.elements(); ++i)
      worst = std::max(worst, std::abs(double(ours.data<float>()[i]) - scipy.data<float>()[i]));
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("no zero voxel anywhere gives infinity; bad spacing is refused") {
  Volume all(DType::u8, 2, 3, 3);
  for (int64_t i = 0; i < all.elements(); ++i) all.data<uint8_t>()[i] = 7;
  const Volume d = distance_transform(all, {1, 1, 1, true});
  CHECK(std::isinf(d.at<float>(1, 1, 1)));
  CHECK_THROWS_AS(distance_transform(all, {0, 1, 1, true}), InputError);
}
