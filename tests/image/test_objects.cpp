#include <doctest/doctest.h>

#include "core/image/objects.h"

using namespace uniem;

TEST_CASE("object statistics: sizes, boxes, centroids and mean intensity by hand") {
  for (DType t : {DType::u8, DType::u16, DType::u32, DType::u64}) {
    Volume labels(t, 2, 3, 4), image(DType::u8, 2, 3, 4);
    visit_dtype(t, [&](auto type) {
      using T = decltype(type);
      labels.at<T>(0, 0, 1) = labels.at<T>(0, 0, 2) = labels.at<T>(1, 0, 2) = 7;  // three voxels of 7
      labels.at<T>(1, 2, 3) = 3;
    });
    image.at<uint8_t>(0, 0, 1) = 10;
    image.at<uint8_t>(0, 0, 2) = 20;
    image.at<uint8_t>(1, 0, 2) = 30;
    image.at<uint8_t>(1, 2, 3) = 99;
    const auto objects = object_statistics(labels, &image);
    REQUIRE(objects.size() == 2);
    CHECK(objects[0].id == 3);
    CHECK(objects[0].voxels == 1);
    CHECK(objects[0].mean_intensity == 99);
    const auto& seven = objects[1];
    CHECK(seven.id == 7);
    CHECK(seven.voxels == 3);
    CHECK(seven.min == std::array<int64_t, 3>{0, 0, 1});
    CHECK(seven.max == std::array<int64_t, 3>{1, 0, 2});
    CHECK(seven.centroid[0] == doctest::Approx(1.0 / 3));
    CHECK(seven.centroid[2] == doctest::Approx(5.0 / 3));
    CHECK(seven.mean_intensity == doctest::Approx(20));
  }
  CHECK_THROWS_AS(object_statistics(Volume(DType::f32, 1, 1, 1)), InputError);
}
