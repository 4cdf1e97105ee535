#include <doctest/doctest.h>

#include <algorithm>

#include "core/image/reconstruction.h"
#include "core/image/watershed.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(UNIEM_TEST_FIXTURES) / "image" / "fixtures";
Volume fixture(const std::string& name) { return read_volume(fixtures / ("ws_" + name + ".tif")); }

double agreement(const Volume& a, const Volume& b) {
  int64_t same = 0;
  for (int64_t i = 0; i < a.elements(); ++i) same += a.value(i) == b.value(i);
  return static_cast<double>(same) / static_cast<double>(a.elements());
}
}  // namespace

TEST_CASE("two basins split exactly at the ridge between them") {
  // Landscape along x: a valley at x = 2 and one at x = 9, a ridge at x = 6.
  Volume land(DType::u8, 1, 3, 12), markers(DType::u32, 1, 3, 12);
  const uint8_t profile[12] = {5, 2, 0, 2, 5, 8, 9, 7, 3, 0, 2, 4};
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 12; ++x) land.at<uint8_t>(0, y, x) = profile[x];
  markers.at<uint32_t>(0, 1, 2) = 1;
  markers.at<uint32_t>(0, 1, 9) = 2;
  for (Connectivity c : {Connectivity::c4, Connectivity::c8, Connectivity::c6, Connectivity::c26}) {
    const Volume ws = watershed(land, markers, nullptr, {c, false});
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 12; ++x) REQUIRE(ws.at<uint32_t>(0, y, x) == (x <= 5 ? 1u : 2u));
    // With lines, the ridge column separates the two.
    const Volume lined = watershed(land, markers, nullptr, {c, true});
    CHECK(lined.at<uint32_t>(0, 1, 0) == 1);
    CHECK(lined.at<uint32_t>(0, 1, 11) == 2);
    int64_t zeros = 0;
    for (int64_t i = 0; i < lined.elements(); ++i) zeros += lined.data<uint32_t>()[i] == 0;
    CHECK(zeros > 0);
    CHECK(zeros <= 6);
  }
}

TEST_CASE("agrees with skimage.segmentation.watershed: 8-bit and float, with a mask") {
  const Volume land = fixture("landscape"), markers = fixture("markers"), mask = fixture("mask");
  CHECK(agreement(watershed(land, markers, nullptr, {Connectivity::c6, false}), fixture("6")) > 0.995);
  CHECK(agreement(watershed(land, markers, &mask, {Connectivity::c26, false}), fixture("26_mask")) > 0.995);
  CHECK(agreement(watershed(fixture("landscape_float"), markers, nullptr, {Connectivity::c6, false}), fixture("float_6")) > 0.995);
  // Outside the mask nothing is labelled; every marker keeps its label.
  const Volume ws = watershed(land, markers, &mask, {Connectivity::c26, false});
  for (int64_t i = 0; i < ws.elements(); ++i) {
    if (mask.value(i) == 0) REQUIRE(ws.value(i) == 0);
    if (markers.value(i) != 0 && mask.value(i) != 0) REQUIRE(ws.value(i) == markers.value(i));
  }
}

TEST_CASE("local maxima of a distance transform give one marker per blob") {
  // Two separate squares: two maxima plateaus.
  Volume d(DType::f32, 1, 9, 20);
  for (int64_t y = 2; y < 7; ++y)
    for (int64_t x = 0; x < 20; ++x)
      if ((x >= 2 && x < 7) || (x >= 12 && x < 17)) {
        const int64_t across = x < 10 ? std::min<int64_t>(x - 2, 6 - x) : std::min<int64_t>(x - 12, 16 - x);
        d.at<float>(0, y, x) = 1 + static_cast<float>(std::min({y - 2, 6 - y, across}));
      }
  const Volume m = local_maxima_markers(d, {0, 2, 2}, 0, Connectivity::c8);
  uint32_t biggest = 0;
  for (int64_t i = 0; i < m.elements(); ++i) biggest = std::max(biggest, m.data<uint32_t>()[i]);
  CHECK(biggest == 2);
  CHECK(m.at<uint32_t>(0, 4, 4) == 1);
  CHECK(m.at<uint32_t>(0, 4, 14) == 2);
}

TEST_CASE("a float landscape of few distinct values floods as its 16-bit twin") {
  // Whole numbers stored as float take the 16-bit level path; the result must not change.
  const Volume land = fixture("landscape"), markers = fixture("markers"), mask = fixture("mask");
  Volume wide(DType::u16, land.nz(), land.ny(), land.nx()), as_float(DType::f32, land.nz(), land.ny(), land.nx());
  for (int64_t i = 0; i < land.elements(); ++i) {
    wide.data<uint16_t>()[i] = static_cast<uint16_t>(land.value(i) * 37);
    as_float.data<float>()[i] = static_cast<float>(land.value(i) * 37);
  }
  for (Connectivity c : {Connectivity::c6, Connectivity::c26}) {
    CHECK(test::same_voxels(watershed(as_float, markers, &mask, {c, true}), watershed(wide, markers, &mask, {c, true})));
    CHECK(test::same_voxels(watershed(as_float, markers, nullptr, {c, false}), watershed(land, markers, nullptr, {c, false})));
  }
}

TEST_CASE("local maxima closer than min_distance give one marker") {
  // Two equal peaks at x = 3 and x = 6 (each the maximum of its box, not connected) and one at
  // x = 14: with min_distance 4 the peak at 6 is within 4 of the one at 3, which comes first in
  // raster order, and is dropped; 14 is far enough. The numbers stay consecutive.
  Volume d(DType::f32, 1, 1, 18);
  const float profile[18] = {0, 1, 2, 5, 2, 1, 5, 1, 0, 0, 0, 0, 1, 2, 5, 2, 1, 0};
  for (int64_t x = 0; x < 18; ++x) d.at<float>(0, 0, x) = profile[x];
  const Volume m = local_maxima_markers(d, {0, 0, 4}, 0, Connectivity::c4);
  CHECK(m.at<uint32_t>(0, 0, 3) == 1);
  CHECK(m.at<uint32_t>(0, 0, 6) == 0);
  CHECK(m.at<uint32_t>(0, 0, 14) == 2);
  // With min_distance 2 they are 3 apart and all three are kept.
  const Volume all = local_maxima_markers(d, {0, 0, 2}, 0, Connectivity::c4);
  CHECK(all.at<uint32_t>(0, 0, 3) == 1);
  CHECK(all.at<uint32_t>(0, 0, 6) == 2);
  CHECK(all.at<uint32_t>(0, 0, 14) == 3);
}

TEST_CASE("bad watershed input is refused") {
  CHECK_THROWS_AS(watershed(Volume(DType::u8, 1, 2, 2), Volume(DType::u32, 1, 2, 3), nullptr, {}), InputError);
  CHECK_THROWS_AS(watershed(Volume(DType::u8, 1, 2, 2), Volume(DType::f32, 1, 2, 2), nullptr, {}), InputError);
}

TEST_CASE("reconstruction by dilation fills up to the mask from the seed, and h-maxima equal scikit-image's") {
  // 1D profile: the seed at one end rises through the mask's valleys only as high as they allow.
  Volume mask(DType::f32, 1, 1, 9), seed(DType::f32, 1, 1, 9);
  const float m[9] = {5, 5, 2, 7, 7, 3, 9, 9, 1};
  for (int64_t x = 0; x < 9; ++x) mask.at<float>(0, 0, x) = m[x];
  seed.at<float>(0, 0, 0) = 4;
  const Volume r = reconstruct_by_dilation(seed, mask, Connectivity::c4);
  const float expected[9] = {4, 4, 2, 2, 2, 2, 2, 2, 1};
  for (int64_t x = 0; x < 9; ++x) CHECK(r.at<float>(0, 0, x) == expected[x]);
  CHECK_THROWS_AS(reconstruct_by_dilation(mask, seed, Connectivity::c4), InputError);

  const Volume field = read_volume(fixtures / "hmax_field.tif");
  CHECK(test::same_voxels(h_maxima(field, 1.5, Connectivity::c26), read_volume(fixtures / "hmax_26.tif")));
  CHECK(test::same_voxels(h_maxima(field, 1.5, Connectivity::c6), read_volume(fixtures / "hmax_6.tif")));
  CHECK(test::same_voxels(h_maxima(field, 1.5, Connectivity::c8), read_volume(fixtures / "hmax_8.tif")));
  CHECK_THROWS_AS(h_maxima(field, 0, Connectivity::c6), InputError);
}

TEST_CASE("h-maxima markers: a neck shallower than h keeps one object, a deeper one makes two") {
  // Two peaks of height 10 and 9 joined by a saddle at 7: h = 2 separates them, h = 3 does not.
  Volume d(DType::f32, 1, 3, 11);
  const float profile[11] = {1, 4, 7, 10, 8, 7, 8, 9, 6, 3, 1};
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 11; ++x) d.at<float>(0, y, x) = profile[x] - (y == 1 ? 0.0f : 0.5f);
  const auto count = [](const Volume& v) {
    uint32_t n = 0;
    for (int64_t i = 0; i < v.elements(); ++i) n = std::max(n, v.data<uint32_t>()[i]);
    return n;
  };
  CHECK(count(h_maxima_markers(d, 2, Connectivity::c8)) == 2);
  CHECK(count(h_maxima_markers(d, 3, Connectivity::c8)) == 1);
  CHECK(h_maxima_markers(d, 3, Connectivity::c8).at<uint32_t>(0, 1, 3) == 1);  // at the higher peak
}

TEST_CASE("small regions merge into the neighbour across their lowest boundary") {
  // Regions along x: 1 (5 voxels) | 2 (2 voxels) | 3 (5 voxels); the boundary 2-3 is lower than 1-2.
  Volume labels(DType::u32, 1, 1, 12), land(DType::u8, 1, 1, 12);
  const uint32_t id[12] = {1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3};
  const uint8_t height[12] = {0, 1, 2, 3, 9, 9, 4, 4, 3, 2, 1, 0};
  for (int64_t x = 0; x < 12; ++x) {
    labels.at<uint32_t>(0, 0, x) = id[x];
    land.at<uint8_t>(0, 0, x) = height[x];
  }
  const Volume merged = merge_small_regions(labels, land, 3, Connectivity::c4);
  for (int64_t x = 0; x < 12; ++x) CHECK(merged.at<uint32_t>(0, 0, x) == (x < 5 ? 1u : 3u));
  // Nothing is small enough: unchanged. Everything is: 2 joins 3 first (the lower boundary), then
  // 1 (5 voxels) joins 3 (now 7) and takes its id.
  CHECK(test::same_voxels(merge_small_regions(labels, land, 2, Connectivity::c4), labels));
  const Volume one = merge_small_regions(labels, land, 100, Connectivity::c4);
  for (int64_t x = 0; x < 12; ++x) CHECK(one.at<uint32_t>(0, 0, x) == 3u);
}

TEST_CASE("markers below a level: one per connected low region, in raster order") {
  // Two basins (values 1 and 2) split by a ridge (9); a third basin apart on the next row.
  Volume land(DType::u8, 1, 3, 7);
  const uint8_t values[21] = {1, 1, 9, 2, 2, 9, 9,  //
                              1, 9, 9, 9, 2, 9, 9,  //
                              9, 9, 9, 9, 9, 9, 0};
  std::copy(values, values + 21, land.data<uint8_t>());
  const Volume m = markers_below(land, 5, Connectivity::c4);
  const uint32_t expected[21] = {1, 1, 0, 2, 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3};
  for (int64_t i = 0; i < 21; ++i) CHECK(m.data<uint32_t>()[i] == expected[i]);
  CHECK(markers_below(land, 1, Connectivity::c4).at<uint32_t>(0, 2, 6) == 1u);  // only the 0 is below 1
}
