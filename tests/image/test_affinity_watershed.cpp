// The watershed of an affinity graph (core/image/affinity_watershed.h) and the affinities of label
// volumes (core/image/affinities.h): exact small cases, and the labels given back from their
// affinities.
#include <doctest/doctest.h>

#include "core/image/affinities.h"
#include "core/image/affinity_watershed.h"
#include "core/image/label.h"
#include "core/image/metrics.h"
#include "core/image/synth.h"
#include "core/random.h"
#include "core/threads.h"
#include "tests/image/synthetic_neurons.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::synthetic_neurons;

TEST_CASE("affinities of labels: 1 between equal nonzero labels, channel c towards the previous voxel along x, y, z") {
  Volume labels(DType::u16, 2, 2, 3);
  // z = 0: 1 1 2 / 1 0 2     z = 1: 1 1 2 / 3 3 2
  const uint16_t values[12] = {1, 1, 2, 1, 0, 2, 1, 1, 2, 3, 3, 2};
  std::copy(values, values + 12, labels.data<uint16_t>());
  const Volume a = affinities_from_labels(labels);
  REQUIRE(a.channels() == 3);
  REQUIRE(a.dtype() == DType::u8);
  auto at = [&](int64_t z, int64_t y, int64_t x, int c) { return a.at<uint8_t>(z, y, x, c); };
  CHECK(at(0, 0, 0, 0) == 0);    // first column: no voxel before it
  CHECK(at(0, 0, 1, 0) == 255);  // 1 -- 1 along x
  CHECK(at(0, 0, 2, 0) == 0);    // 1 -- 2
  CHECK(at(0, 1, 0, 1) == 255);  // 1 -- 1 along y
  CHECK(at(0, 1, 1, 1) == 0);    // 0 -- 1: label 0 never joins
  CHECK(at(0, 1, 1, 0) == 0);
  CHECK(at(0, 1, 2, 1) == 255);  // 2 -- 2 along y
  CHECK(at(1, 0, 0, 2) == 255);  // 1 -- 1 along z
  CHECK(at(1, 1, 0, 2) == 0);    // 3 -- 1
  CHECK(at(1, 1, 1, 2) == 0);    // 3 -- 0
  CHECK(at(1, 1, 2, 2) == 255);  // 2 -- 2
  CHECK(at(0, 0, 0, 2) == 0);    // first section
  const Volume f = affinities_from_labels(labels, DType::f32);
  CHECK(f.at<float>(0, 0, 1, 0) == 1.0f);
  CHECK(f.at<float>(0, 0, 2, 0) == 0.0f);
  CHECK_THROWS_AS(affinities_from_labels(Volume(DType::f32, 1, 2, 2)), InputError);
}

TEST_CASE("the watershed of known labels' affinities gives back their 6-connected pieces exactly") {
  const Volume labels = synthetic_neurons(3);
  const Volume pieces = label_components(labels, Connectivity::c6, true).labels;
  for (DType type : {DType::u8, DType::f32}) {
    const Fragments f = affinity_watershed(affinities_from_labels(labels, type), {0.9999, 0.0001, 0, 0.3});
    // Both number in raster order of the first voxel: the same ids, except single voxels (no
    // affinity of their own), which stay background.
    int64_t differ = 0, singles = 0;
    for (int64_t i = 0; i < labels.voxels(); ++i) {
      const uint32_t want = pieces.data<uint32_t>()[i], got = f.labels.data<uint32_t>()[i];
      if (want != 0 && got == 0) ++singles;
      else differ += want != got && want != 0;
    }
    CHECK(singles < labels.voxels() / 1000);
    const auto scores = instance_scores(contingency_table(f.labels, pieces, true));
    CHECK(scores.v_rand > 0.9999);
    CHECK(scores.rand_merge == doctest::Approx(1.0));
    if (singles == 0) CHECK(differ == 0);
  }
}

TEST_CASE("an exact small case: plateaus, the high threshold, background and size-dependent merging") {
  // One row of 8 voxels: affinities between neighbours (x-1, x), stored at x.
  //   x:        0     1     2     3     4     5     6     7
  //   aff:      -    1.0   1.0   0.2   0.8   0.6   0.0   0.0
  const float row[8] = {0, 1.0f, 1.0f, 0.2f, 0.8f, 0.6f, 0.0f, 0.0f};
  Volume a(DType::f32, 1, 1, 8, 3);
  for (int x = 0; x < 8; ++x) a.at<float>(0, 0, x, 0) = row[x];
  // Without size merging: {0,1,2} joined by affinities >= high; voxel 3's best edge (0.8) leads to
  // 4, 4's (0.8) to 3: a plateau {3,4}; 5's best (0.6) leads to 4; 6 and 7 have nothing >= low.
  Fragments f = affinity_watershed(a, {0.9999, 0.0001, 0, 0.3});
  const uint32_t* l = f.labels.data<uint32_t>();
  CHECK(f.count == 2);
  const uint32_t want[8] = {1, 1, 1, 2, 2, 2, 0, 0};
  for (int x = 0; x < 8; ++x) CHECK(l[x] == want[x]);
  // Size merging: regions under 4 voxels join their neighbour through an affinity >= 0.1.
  f = affinity_watershed(a, {0.9999, 0.0001, 4, 0.1});
  CHECK(f.count == 1);
  CHECK(f.basins == 2);
  // ... but not through an affinity below the size threshold.
  f = affinity_watershed(a, {0.9999, 0.0001, 4, 0.3});
  CHECK(f.count == 2);
  // A plateau with exits is divided among them: affinities 0.9, then 0.5 four times, then 0.9.
  // Voxels 2, 3, 4 are the plateau (their best is 0.5); 2 leaves it to the left, 4 to the right,
  // and the search from the exits in raster order gives 3 to 2.
  Volume p(DType::f32, 1, 1, 7, 3);
  const float plateau[7] = {0, 0.9f, 0.5f, 0.5f, 0.5f, 0.5f, 0.9f};
  for (int x = 0; x < 7; ++x) p.at<float>(0, 0, x, 0) = plateau[x];
  f = affinity_watershed(p, {0.9999, 0.0001, 0, 0.3});
  const uint32_t want_p[7] = {1, 1, 1, 1, 2, 2, 2};
  for (int x = 0; x < 7; ++x) CHECK(f.labels.data<uint32_t>()[x] == want_p[x]);
}

TEST_CASE("the watershed refuses what it cannot use") {
  CHECK_THROWS_AS(affinity_watershed(Volume(DType::u8, 2, 4, 4), {}), InputError);      // one channel
  CHECK_THROWS_AS(affinity_watershed(Volume(DType::u32, 2, 4, 4, 3), {}), InputError);  // labels, not affinities
  CHECK_THROWS_AS(affinity_watershed(Volume(DType::u8, 2, 4, 4, 3), {0.2, 0.5, 25, 0.3}), InputError);  // low > high
}

TEST_CASE("the watershed is the same for every thread count") {
  Volume a = affinities_from_labels(synthetic_neurons(5), DType::f32);
  for (int64_t i = 0; i < a.elements(); ++i) {
    float& v = a.data<float>()[i];
    v = std::min(1.0f, std::max(0.0f, v + static_cast<float>(0.3 * hash_normal(7, static_cast<uint64_t>(i)))));
  }
  set_thread_count(1);
  const Fragments one = affinity_watershed(a, {});
  set_thread_count(2);
  const Fragments two = affinity_watershed(a, {});
  const Fragments again = affinity_watershed(a, {});
  set_thread_count(0);
  CHECK(test::same_voxels(one.labels, two.labels));
  CHECK(test::same_voxels(two.labels, again.labels));
  CHECK(one.count > 10);
}
