#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/image/canny.h"
#include "core/image/filters.h"
#include "core/image/statistics.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(UNIEM_TEST_FIXTURES) / "image" / "fixtures";
Volume fixture(const std::string& name) { return read_volume(fixtures / ("filter_" + name + ".tif")); }

// Largest difference between two volumes of the same shape, as doubles.
double worst_difference(const Volume& a, const Volume& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.elements(); ++i) worst = std::max(worst, std::abs(a.value(i) - b.value(i)));
  return worst;
}

Volume to_float(const Volume& v) {
  Volume f(DType::f32, v.nz(), v.ny(), v.nx());
  for (int64_t i = 0; i < v.elements(); ++i) f.data<float>()[i] = static_cast<float>(v.value(i));
  return f;
}
}  // namespace

TEST_CASE("smoothing and order filters agree with scipy.ndimage, 2D and 3D") {
  const Volume image = fixture("image");
  const Volume f = to_float(image);
  CHECK(worst_difference(gaussian(f, {0, 1.5, 1.5}), fixture("gaussian2d")) < 1e-3);
  CHECK(worst_difference(gaussian(f, {0.75, 1.5, 1.5}), fixture("gaussian3d")) < 1e-3);
  // On 8-bit input the result stays 8-bit, rounded.
  const Volume g8 = gaussian(image, {0, 1.5, 1.5});
  CHECK(g8.dtype() == DType::u8);
  CHECK(worst_difference(g8, fixture("gaussian2d")) <= 0.5 + 1e-3);
  CHECK(test::same_voxels(median(image, {0, 2, 2}), fixture("median2d")));
  CHECK(test::same_voxels(median(image, {1, 1, 1}), fixture("median3d")));
  CHECK(worst_difference(median(f, {1, 1, 1}), fixture("median3d")) == 0);  // the float path
  CHECK(worst_difference(box_filter(f, BoxStatistic::mean, {0, 2, 2}), fixture("mean2d")) < 1e-3);
  CHECK(test::same_voxels(box_filter(image, BoxStatistic::minimum, {0, 1, 1}), fixture("min2d")));
  CHECK(test::same_voxels(box_filter(image, BoxStatistic::maximum, {1, 1, 1}), fixture("max3d")));
  CHECK(worst_difference(sobel(f, false), fixture("sobel2d")) < 1e-2);
}

TEST_CASE("16-bit median uses the histogram path and equals the float one") {
  const Volume image = fixture("image");
  Volume wide(DType::u16, image.nz(), image.ny(), image.nx());
  for (int64_t i = 0; i < image.elements(); ++i) wide.data<uint16_t>()[i] = static_cast<uint16_t>(image.value(i) * 200);
  CHECK(worst_difference(median(wide, {1, 2, 2}), median(to_float(wide), {1, 2, 2})) == 0);
}

TEST_CASE("Otsu's threshold equals scikit-image's, and thresholds make masks") {
  const auto e = nlohmann::json::parse(std::ifstream(fixtures / "expected.json"));
  const Volume image = fixture("image");
  CHECK(otsu_threshold(image) == doctest::Approx(e["otsu"]["uint8"].get<double>()));
  CHECK(otsu_threshold(fixture("float")) == doctest::Approx(e["otsu"]["float32"].get<double>()).epsilon(1e-6));
  CHECK(test::same_voxels(threshold(image, otsu_threshold(image)), fixture("mask")));
}

TEST_CASE("binary morphology, hole filling and small-object removal agree with SciPy and scikit-image") {
  const Volume mask = fixture("mask");
  const VoxelSize unit{1, 1, 1, true};
  CHECK(test::same_voxels(binary_morphology(mask, Morphology::dilate, 2, unit, false), fixture("dilate2d")));
  CHECK(test::same_voxels(binary_morphology(mask, Morphology::erode, 2, unit, false), fixture("erode2d")));
  CHECK(test::same_voxels(fill_holes(mask, false), fixture("fill2d")));
  CHECK(test::same_voxels(remove_small_objects(mask, 40, Connectivity::c6), fixture("small3d")));
  // Opening never adds, closing never removes.
  const Volume opened = binary_morphology(mask, Morphology::open, 1.5, unit, true);
  const Volume closed = binary_morphology(mask, Morphology::close, 1.5, unit, true);
  for (int64_t i = 0; i < mask.elements(); ++i) {
    REQUIRE(opened.value(i) <= mask.value(i));
    REQUIRE(closed.value(i) >= mask.value(i));
  }
}

TEST_CASE("invert and normalise") {
  Volume v(DType::u16, 1, 1, 4);
  const uint16_t values[] = {0, 100, 1000, 65535};
  for (int i = 0; i < 4; ++i) v.data<uint16_t>()[i] = values[i];
  CHECK(invert(v).data<uint16_t>()[1] == 65435);
  const Volume n = normalise(v, 0, 100);
  CHECK(n.dtype() == DType::f32);
  CHECK(n.data<float>()[0] == 0);
  CHECK(n.data<float>()[3] == 1);
  CHECK(n.data<float>()[2] == doctest::Approx(1000.0 / 65535));
}

TEST_CASE("wrong input for a filter is refused with a reason") {
  Volume labels(DType::u32, 1, 4, 4);
  CHECK_THROWS_WITH_AS(gaussian(labels, {0, 1, 1}), doctest::Contains("label ids"), InputError);
  CHECK_THROWS_WITH_AS(median(labels, {0, 1, 1}), doctest::Contains("label ids"), InputError);
  CHECK_THROWS_WITH_AS(gaussian(fixture("image"), {0, -1, 1}), doctest::Contains("negative"), InputError);
  CHECK_THROWS_WITH_AS(binary_morphology(fixture("image"), Morphology::dilate, 1, {1, 1, 1, true}, false),
                       doctest::Contains("threshold it first"), InputError);
}

TEST_CASE("CLAHE raises local contrast, keeps order within a block, and takes ImageJ's parameters") {
  // A dim, low-contrast ramp with a step: equalisation spreads it over the full range.
  Volume v(DType::u8, 1, 64, 64);
  for (int64_t y = 0; y < 64; ++y)
    for (int64_t x = 0; x < 64; ++x) v.at<uint8_t>(0, y, x) = static_cast<uint8_t>(100 + x / 8 + (y > 32 ? 4 : 0));
  // A low slope limits the enhancement (ImageJ's 1.5 stretches a little), a high one approaches
  // full histogram equalisation. One block covers the image here: a global mapping.
  const auto before = compute_statistics(v);
  const auto gentle = compute_statistics(clahe(v, {127, 256, 1.5}));
  const Volume c = clahe(v, {127, 256, 50});
  const auto strong = compute_statistics(c);
  CHECK(gentle.max - gentle.min > before.max - before.min);
  CHECK(strong.max - strong.min > 200);
  // Brighter input never maps darker when the block is the whole image.
  for (int64_t i = 1; i < v.elements(); ++i)
    for (int64_t j : {i - 1, i - 64})
      if (j >= 0 && v.data<uint8_t>()[j] < v.data<uint8_t>()[i]) REQUIRE(c.data<uint8_t>()[j] <= c.data<uint8_t>()[i]);
  CHECK_THROWS_WITH_AS(clahe(Volume(DType::u16, 1, 4, 4), {}), doctest::Contains("8-bit"), InputError);
  CHECK_THROWS_AS(clahe(v, {1, 256, 1.5}), InputError);
}

TEST_CASE("bilateral smoothing agrees with cv2.bilateralFilter away from the borders and keeps edges") {
  const Volume image = fixture("image"), opencv = fixture("bilateral2d");
  const Volume ours = bilateral(image, 2.0, 30.0, {1, 1, 1, true}, false);
  REQUIRE(ours.dtype() == DType::u8);
  double worst = 0;
  for (int64_t z = 0; z < image.nz(); ++z)
    for (int64_t y = 3; y < image.ny() - 3; ++y)
      for (int64_t x = 3; x < image.nx() - 3; ++x)
        worst = std::max(worst, std::abs(double(ours.at<uint8_t>(z, y, x)) - opencv.at<uint8_t>(z, y, x)));
  CHECK(worst <= 1);  // OpenCV's fixed-point weights round differently by at most one grey level
  // A step stays a step: 20 grey levels apart with a range sigma of 5.
  Volume step(DType::u8, 1, 8, 16);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 16; ++x) step.at<uint8_t>(0, y, x) = x < 8 ? 100 : 120;
  const Volume kept = bilateral(step, 2.0, 5.0, {1, 1, 1, true}, false);
  CHECK(kept.at<uint8_t>(0, 4, 7) == 100);
  CHECK(kept.at<uint8_t>(0, 4, 8) == 120);
}

TEST_CASE("Canny equals cv2.Canny with the Euclidean and the L1 gradient norm") {
  const Volume image = read_volume(fixtures / "canny_image.tif");
  const Volume l2 = canny(image, {40, 100, 0, false}), l1 = canny(image, {50, 150, 0, true});
  CHECK(l2.dtype() == DType::u8);
  CHECK(test::same_voxels(l2, read_volume(fixtures / "canny_l2.tif")));
  CHECK(test::same_voxels(l1, read_volume(fixtures / "canny_l1.tif")));
  int64_t edges = 0;
  for (int64_t i = 0; i < l2.elements(); ++i) edges += l2.data<uint8_t>()[i] == 255;
  CHECK(edges > 300);  // the fixture has edges to find
  // Smoothing first finds fewer, cleaner edges; a single step edge gives one line of pixels.
  int64_t smoothed = 0;
  const Volume s = canny(image, {40, 100, 1.5, false});
  for (int64_t i = 0; i < s.elements(); ++i) smoothed += s.data<uint8_t>()[i] == 255;
  CHECK(smoothed < edges);
  Volume step(DType::u8, 1, 16, 16);
  for (int64_t y = 0; y < 16; ++y)
    for (int64_t x = 8; x < 16; ++x) step.at<uint8_t>(0, y, x) = 200;
  const Volume e = canny(step, {50, 100, 0, false});
  for (int64_t y = 0; y < 16; ++y)
    for (int64_t x = 0; x < 16; ++x) REQUIRE(e.at<uint8_t>(0, y, x) == (x == 7 ? 255 : 0));  // the dark side of the step
}

TEST_CASE("Canny refuses labels, colour and thresholds in the wrong order") {
  CHECK_THROWS_AS(canny(Volume(DType::u32, 1, 8, 8), {}), InputError);
  CHECK_THROWS_AS(canny(Volume(DType::u8, 1, 8, 8, 3), {}), InputError);
  CHECK_THROWS_AS(canny(Volume(DType::u8, 1, 8, 8), {150, 50, 0, false}), InputError);
  CHECK_THROWS_AS(canny(Volume(DType::u8, 1, 8, 8), {10, 50, -1, false}), InputError);
}

TEST_CASE("medians (selection networks and the sliding histogram) equal a brute-force median, every type and shape") {
  // Odd widths so that the last block of voxels is partial; windows of 3 to 125 values (networks
  // of 4 to 128 inputs) and 13x13 (169 values: the sliding histogram).
  Volume image(DType::u16, 4, 9, 45);
  uint32_t state = 12345;
  for (int64_t i = 0; i < image.elements(); ++i) {
    state = state * 1664525u + 1013904223u;
    image.data<uint16_t>()[i] = static_cast<uint16_t>(state >> 20);
  }
  const auto brute = [](const Volume& v, int64_t rz, int64_t ry, int64_t rx) {
    Volume out(DType::f32, v.nz(), v.ny(), v.nx());
    std::vector<double> window;
    const auto mirror = [](int64_t i, int64_t n) { return n == 1 ? 0 : i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i; };
    for (int64_t z = 0; z < v.nz(); ++z)
      for (int64_t y = 0; y < v.ny(); ++y)
        for (int64_t x = 0; x < v.nx(); ++x) {
          window.clear();
          for (int64_t dz = -rz; dz <= rz; ++dz)
            for (int64_t dy = -ry; dy <= ry; ++dy)
              for (int64_t dx = -rx; dx <= rx; ++dx)
                window.push_back(v.value((mirror(z + dz, v.nz()) * v.ny() + mirror(y + dy, v.ny())) * v.nx() + mirror(x + dx, v.nx())));
          std::nth_element(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2), window.end());
          out.at<float>(z, y, x) = static_cast<float>(window[window.size() / 2]);
        }
    return out;
  };
  for (DType type : {DType::u8, DType::u16, DType::f32}) {
    Volume v(type, image.nz(), image.ny(), image.nx());
    for (int64_t i = 0; i < v.elements(); ++i) {
      const double x = image.data<uint16_t>()[i];
      if (type == DType::u8) v.data<uint8_t>()[i] = static_cast<uint8_t>(x / 16);
      else if (type == DType::u16) v.data<uint16_t>()[i] = static_cast<uint16_t>(x);
      else v.data<float>()[i] = static_cast<float>(x / 7);
    }
    for (const Extent r : {Extent{0, 0, 1}, Extent{0, 1, 1}, Extent{0, 2, 2}, Extent{1, 1, 1}, Extent{1, 0, 2}, Extent{0, 3, 3},
                           Extent{1, 2, 2}, Extent{2, 2, 2}, Extent{0, 6, 6}}) {
      CAPTURE(dtype_name(type));
      CAPTURE(r.z);
      CAPTURE(r.y);
      CAPTURE(r.x);
      const Volume got = median(v, r);
      CHECK(got.dtype() == type);
      CHECK(worst_difference(got, brute(v, int64_t(r.z), int64_t(r.y), int64_t(r.x))) == 0);
    }
  }
}
