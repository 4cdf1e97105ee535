#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <fstream>

#include "core/image/label.h"
#include "core/threads.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(UNIEM_TEST_FIXTURES) / "image" / "fixtures";
nlohmann::json expected() { return nlohmann::json::parse(std::ifstream(fixtures / "expected.json")); }

// True when a and b are the same partition (a bijection between their ids, 0 to 0).
bool same_partition(const Volume& a, const Volume& b) {
  std::map<uint32_t, uint32_t> ab, ba;
  for (int64_t i = 0; i < a.elements(); ++i) {
    const uint32_t x = a.data<uint32_t>()[i], y = b.data<uint32_t>()[i];
    if ((x == 0) != (y == 0)) return false;
    if (ab.emplace(x, y).first->second != y || ba.emplace(y, x).first->second != x) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("a four-quadrant image gives four components under every connectivity") {
  // Quadrants of labels 1..4, touching along edges and corners.
  Volume v(DType::u8, 2, 6, 6);
  for (int64_t z = 0; z < 2; ++z)
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t x = 0; x < 6; ++x) v.at<uint8_t>(z, y, x) = static_cast<uint8_t>(1 + (y >= 3) * 2 + (x >= 3));
  for (int c : {6, 18, 26}) {
    const auto r = label_components(v, *connectivity_from(c), true);
    CHECK(r.count == 4);
    CHECK(r.labels.at<uint32_t>(0, 0, 0) == 1);
    CHECK(r.labels.at<uint32_t>(1, 5, 5) == 4);
  }
  for (int c : {4, 8}) CHECK(label_components(v, *connectivity_from(c), true).count == 8);  // 4 per section
  // In binary mode the quadrants are one foreground.
  CHECK(label_components(v, Connectivity::c6, false).count == 1);
}

TEST_CASE("diagonal contacts join only under the connectivities that include them") {
  Volume v(DType::u8, 2, 3, 3);
  v.at<uint8_t>(0, 0, 0) = 1;
  v.at<uint8_t>(0, 1, 1) = 1;  // edge-diagonal in-plane
  v.at<uint8_t>(1, 2, 2) = 1;  // corner-diagonal across sections from (0,1,1)
  CHECK(label_components(v, Connectivity::c6, false).count == 3);
  CHECK(label_components(v, Connectivity::c18, false).count == 2);
  CHECK(label_components(v, Connectivity::c26, false).count == 1);
  CHECK(label_components(v, Connectivity::c4, false).count == 3);
  CHECK(label_components(v, Connectivity::c8, false).count == 2);
}

TEST_CASE("labels equal scipy.ndimage.label exactly, ids in raster order") {
  const auto e = expected();
  const Volume mask = read_volume(fixtures / "label_mask.tif");
  for (const char* c : {"4", "8", "6", "18", "26"}) {
    CAPTURE(c);
    const auto r = label_components(mask, *connectivity_from(std::stoi(c)), false);
    CHECK(r.count == e["label"][c].get<int64_t>());
    const Volume scipy = read_volume(fixtures / (std::string("label_") + c + ".tif"));
    CHECK(test::same_voxels(r.labels, scipy));
  }
}

TEST_CASE("label-preserving labeling matches skimage.measure.label on a multi-label volume") {
  const auto e = expected();
  const Volume multi = read_volume(fixtures / "label_multi.tif");
  CHECK(label_components(multi, Connectivity::c6, true).count == e["label_multi"]["6"].get<int64_t>());
  CHECK(label_components(multi, Connectivity::c26, true).count == e["label_multi"]["26"].get<int64_t>());
}

TEST_CASE("the result does not depend on the thread count; floats only in binary mode") {
  const Volume mask = read_volume(fixtures / "label_mask.tif");
  set_thread_count(1);
  const auto one = label_components(mask, Connectivity::c26, false);
  set_thread_count(3);
  const auto three = label_components(mask, Connectivity::c26, false);
  set_thread_count(0);
  CHECK(test::same_voxels(one.labels, three.labels));
  CHECK(same_partition(one.labels, three.labels));
  CHECK_THROWS_AS(label_components(Volume(DType::f32, 1, 2, 2), Connectivity::c6, true), InputError);
  CHECK(label_components(Volume(DType::f32, 1, 2, 2), Connectivity::c6, false).count == 0);
}

TEST_CASE("the 64-bytes-at-a-time path for uint8 masks equals the general one, for every row length") {
  for (int64_t nx : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 67, 127, 128, 129, 200}) {
    CAPTURE(nx);
    Volume bytes(DType::u8, 3, 5, nx), words(DType::u16, 3, 5, nx);
    uint64_t state = 12345 + static_cast<uint64_t>(nx);
    for (int64_t i = 0; i < bytes.elements(); ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const bool on = (state >> 33) % 3 != 0;
      bytes.data<uint8_t>()[i] = on ? static_cast<uint8_t>(1 + (state >> 40) % 255) : 0;
      words.data<uint16_t>()[i] = bytes.data<uint8_t>()[i];
    }
    for (int c : {4, 8, 6, 18, 26}) {
      const auto a = label_components(bytes, *connectivity_from(c), false);
      const auto b = label_components(words, *connectivity_from(c), false);
      CHECK(a.count == b.count);
      CHECK(test::same_voxels(a.labels, b.labels));
    }
  }
}
