#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/image/metrics.h"
#include "core/threads.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(UNIEM_TEST_FIXTURES) / "image" / "fixtures";

Volume labels(std::initializer_list<uint32_t> values) {
  Volume v(DType::u32, 1, 1, static_cast<int64_t>(values.size()));
  int64_t i = 0;
  for (uint32_t x : values) v.data<uint32_t>()[i++] = x;
  return v;
}
}  // namespace

TEST_CASE("a perfect segmentation scores 1 and no error; ids need not match") {
  const Volume gt = labels({1, 1, 2, 2, 2, 0, 3});
  const Volume seg = labels({7, 7, 9, 9, 9, 4, 5});
  const auto s = instance_scores(contingency_table(seg, gt, true));
  CHECK(s.voxels == 6);
  CHECK(s.v_rand == doctest::Approx(1));
  CHECK(s.v_info == doctest::Approx(1));
  CHECK(s.vi == doctest::Approx(0));
  CHECK(s.adapted_rand_error == doctest::Approx(0));
}

TEST_CASE("a hand-computed merge: two objects of 2 voxels predicted as one") {
  const auto s = instance_scores(contingency_table(labels({5, 5, 5, 5}), labels({1, 1, 2, 2}), true));
  // p = [2, 2]; sum p^2 = 8, t = [2, 2] -> 8, s = [4] -> 16.
  CHECK(s.rand_split == doctest::Approx(1));
  CHECK(s.rand_merge == doctest::Approx(0.5));
  CHECK(s.v_rand == doctest::Approx(8.0 / 12.0));
  CHECK(s.vi_split == doctest::Approx(0));  // nothing was cut
  CHECK(s.vi_merge == doctest::Approx(1));  // one bit: which of the two objects
}

TEST_CASE("instance scores agree with scikit-image, the SNEMI3D script and the reference to 1e-9") {
  const auto e = nlohmann::json::parse(std::ifstream(fixtures / "expected.json"));
  for (const auto& m : e["metrics"]) {
    const int k = static_cast<int>(m["k"].get<double>());
    CAPTURE(k);
    const Volume gt = read_volume(fixtures / ("gt_" + std::to_string(k) + ".tif"));
    const Volume seg = read_volume(fixtures / ("seg_" + std::to_string(k) + ".tif"));
    const auto s = instance_scores(contingency_table(seg, gt, true));
    CHECK(s.adapted_rand_error == doctest::Approx(m["adapted_rand_error"].get<double>()).epsilon(1e-9));
    CHECK(s.adapted_rand_precision == doctest::Approx(m["adapted_rand_precision"].get<double>()).epsilon(1e-9));
    CHECK(s.adapted_rand_recall == doctest::Approx(m["adapted_rand_recall"].get<double>()).epsilon(1e-9));
    CHECK(s.vi_split == doctest::Approx(m["skimage_vi_split"].get<double>()).epsilon(1e-9));
    CHECK(s.vi_merge == doctest::Approx(m["skimage_vi_merge"].get<double>()).epsilon(1e-9));
    CHECK(s.snemi3d_adapted_rand_error == doctest::Approx(m["snemi3d_adapted_rand_error"].get<double>()).epsilon(1e-9));
    for (const char* key : {"v_rand", "rand_split", "rand_merge", "v_info", "info_split", "info_merge"}) {
      CAPTURE(key);
      const double ours = key == std::string("v_rand") ? s.v_rand : key == std::string("rand_split") ? s.rand_split
                          : key == std::string("rand_merge") ? s.rand_merge : key == std::string("v_info") ? s.v_info
                          : key == std::string("info_split") ? s.info_split : s.info_merge;
      CHECK(ours == doctest::Approx(m[key].get<double>()).epsilon(1e-9));
    }
    // The same for every thread count.
    set_thread_count(1);
    const auto one = instance_scores(contingency_table(seg, gt, true));
    set_thread_count(0);
    CHECK(one.vi == s.vi);
    CHECK(one.v_rand == s.v_rand);
  }
}

TEST_CASE("semantic scores: binary masks of different values, and several classes") {
  const auto b = semantic_scores(labels({0, 1, 1, 1, 0, 0}), labels({0, 255, 255, 0, 255, 0}));
  REQUIRE(b.binary);
  REQUIRE(b.classes.size() == 1);
  CHECK(b.classes[0].true_positives == 2);
  CHECK(b.classes[0].jaccard == doctest::Approx(0.5));
  CHECK(b.classes[0].dice == doctest::Approx(2.0 / 3.0));
  CHECK(b.classes[0].precision == doctest::Approx(2.0 / 3.0));
  CHECK(b.classes[0].recall == doctest::Approx(2.0 / 3.0));
  const auto m = semantic_scores(labels({1, 1, 2, 2, 0}), labels({1, 2, 2, 2, 0}));
  REQUIRE(m.classes.size() == 2);
  CHECK(m.classes[0].jaccard == doctest::Approx(0.5));
  CHECK(m.classes[1].jaccard == doctest::Approx(2.0 / 3.0));
}

TEST_CASE("mismatched shapes and float volumes are refused") {
  CHECK_THROWS_WITH_AS(contingency_table(labels({1, 2}), labels({1, 2, 3}), true), doctest::Contains("must match"), InputError);
  CHECK_THROWS_AS(contingency_table(Volume(DType::f32, 1, 1, 2), labels({1, 2}), true), InputError);
}

TEST_CASE("the contingency table counted section by section equals the whole one") {
  const Volume seg = read_volume(fixtures / "seg_1.tif"), gt = read_volume(fixtures / "gt_1.tif");
  const Contingency whole = contingency_table(seg, gt, true);
  for (int64_t step : {1, 2, 5}) {
    ContingencyCounter counter(true);
    for (int64_t z = 0; z < seg.nz(); z += step) {
      const int64_t n = std::min(step, seg.nz() - z);
      Volume a(seg.dtype(), n, seg.ny(), seg.nx()), b(gt.dtype(), n, gt.ny(), gt.nx());
      std::memcpy(a.raw(), seg.raw_slice(z), a.bytes());
      std::memcpy(b.raw(), gt.raw_slice(z), b.bytes());
      counter.add(a, b);
    }
    const Contingency pieces = counter.table();
    CHECK(pieces.voxels == whole.voxels);
    CHECK(pieces.total_voxels == whole.total_voxels);
    REQUIRE(pieces.entries.size() == whole.entries.size());
    for (size_t i = 0; i < whole.entries.size(); ++i) {
      CHECK(pieces.entries[i].segment == whole.entries[i].segment);
      CHECK(pieces.entries[i].truth == whole.entries[i].truth);
      CHECK(pieces.entries[i].count == whole.entries[i].count);
    }
  }
  ContingencyCounter counter(true);
  CHECK_THROWS_AS(counter.add(Volume(DType::u32, 1, 2, 2), Volume(DType::u32, 1, 2, 3)), InputError);
}
