// The region graph and hierarchical agglomeration (core/image/agglomeration.h): small graphs with
// known answers, the statistics against a brute-force count, labels recovered from noisy
// affinities, monotone thresholds, and the same result for every thread count.
#include <doctest/doctest.h>

#include <map>

#include "core/image/affinities.h"
#include "core/image/affinity_watershed.h"
#include "core/image/agglomeration.h"
#include "core/image/label.h"
#include "core/image/metrics.h"
#include "core/image/synth.h"
#include "core/random.h"
#include "core/threads.h"
#include "tests/image/synthetic_neurons.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::synthetic_neurons;

namespace {

// An edge of `count` voxel pairs per bin, in a graph whose affinities are bin / 256 exactly.
RegionEdge edge(uint32_t a, uint32_t b, std::vector<std::pair<int, uint64_t>> bins) {
  RegionEdge e;
  e.a = a;
  e.b = b;
  for (auto [bin, count] : bins) {
    e.histogram.append(bin, count);
    e.count += count;
    e.sum += static_cast<uint64_t>(bin) * count;
  }
  return e;
}

RegionGraph graph_of(uint32_t fragments, std::vector<RegionEdge> edges) {
  RegionGraph g;
  g.fragments = fragments;
  g.sizes.assign(fragments + 1, 10);
  g.edges = std::move(edges);
  g.unit = 1.0 / 256;
  return g;
}

AgglomerationOptions at(std::vector<double> thresholds, std::optional<double> percentile = {}) {
  AgglomerationOptions o;
  o.thresholds = std::move(thresholds);
  o.percentile = percentile;
  return o;
}


// Float affinities of `labels` with Gaussian noise of standard deviation sigma, clamped to [0, 1].
Volume noisy_affinities(const Volume& labels, double sigma, uint64_t seed) {
  Volume a = affinities_from_labels(labels, DType::f32);
  for (int64_t i = 0; i < a.elements(); ++i) {
    float& v = a.data<float>()[i];
    v = std::min(1.0f, std::max(0.0f, v + static_cast<float>(sigma * hash_normal(seed, static_cast<uint64_t>(i)))));
  }
  return a;
}

struct Pipeline {
  Fragments fragments;
  RegionGraph graph;
  Agglomeration result;
};

Pipeline segment(const Volume& affinities, const AgglomerationOptions& options) {
  Pipeline p;
  p.fragments = affinity_watershed(affinities, {});
  p.graph = region_graph(p.fragments.labels, affinities);
  p.result = agglomerate(p.graph, options);
  return p;
}

}  // namespace

TEST_CASE("two regions are joined at a threshold up to their boundary's mean affinity, not above") {
  const RegionGraph g = graph_of(2, {edge(1, 2, {{128, 10}})});  // mean 0.5 exactly
  const Agglomeration r = agglomerate(g, at({0.4, 0.5, 0.5000001, 0.6}));
  CHECK(r.segments == std::vector<uint32_t>{1, 1, 2, 2});
  CHECK(r.segment_of[0] == std::vector<uint32_t>{0, 1, 1});
  CHECK(r.segment_of[3] == std::vector<uint32_t>{0, 1, 2});
  CHECK(r.merges == 1);
}

TEST_CASE("mean and percentile scores differ as they should") {
  // Three pairs at 0.9 and one at 0.1: mean 0.7, median 0.9, 25th percentile 0.1.
  const RegionGraph g = graph_of(2, {edge(1, 2, {{26, 1}, {230, 3}})});
  CHECK(g.mean(g.edges[0]) == doctest::Approx((26 + 3 * 230) / 4.0 / 256));
  CHECK(percentile_affinity(g.edges[0].histogram, 50) == doctest::Approx(230.5 / 256));
  CHECK(percentile_affinity(g.edges[0].histogram, 25) == doctest::Approx(26.5 / 256));
  CHECK(percentile_affinity(g.edges[0].histogram, 0) == doctest::Approx(26.5 / 256));
  CHECK(percentile_affinity(g.edges[0].histogram, 100) == doctest::Approx(230.5 / 256));
  CHECK(agglomerate(g, at({0.8})).segments[0] == 2);
  CHECK(agglomerate(g, at({0.8}, 50)).segments[0] == 1);
  CHECK(agglomerate(g, at({0.8}, 25)).segments[0] == 2);
}

TEST_CASE("merging sums the statistics of the boundaries to a common neighbour exactly") {
  // 1-2 at 0.9 (10 pairs), 1-3 at 0.7 (10 pairs), 2-3 at 0.3 (30 pairs). Once 1 and 2 are one,
  // their boundary with 3 has mean (10 x 0.7 + 30 x 0.3) / 40 = 0.4: 3 joins at 0.35, not at 0.45
  // (where the 1-3 boundary alone, 0.7, would have joined it).
  const RegionGraph g = graph_of(3, {edge(1, 2, {{230, 10}}), edge(1, 3, {{179, 10}}), edge(2, 3, {{77, 30}})});
  const double merged = (10 * 179 + 30 * 77) / 40.0 / 256;
  const Agglomeration r = agglomerate(g, at({merged - 1e-9, merged + 1e-9, 0.85, 0.95}));
  CHECK(r.segments == std::vector<uint32_t>{1, 2, 2, 3});
  CHECK(r.segment_of[1] == std::vector<uint32_t>{0, 1, 1, 2});
  // The median of the joined boundary is 0.3: 3 stays apart at 0.35.
  CHECK(agglomerate(g, at({0.35}, 50)).segments[0] == 2);
  // Histograms add bin by bin.
  AffinityHistogram h = g.edges[1].histogram;
  h.add(g.edges[2].histogram);
  h.add(g.edges[2].histogram);
  REQUIRE(h.bins() == 2);
  CHECK(h.bin(0) == 77);
  CHECK(h.count(0) == 60);
  CHECK(h.bin(1) == 179);
  CHECK(h.total() == 70);
}

TEST_CASE("ties are broken by the smaller ids") {
  // A chain 1-2-3 with equal scores: 1 and 2 join first; the same result every time.
  const RegionGraph g = graph_of(4, {edge(1, 2, {{200, 5}}), edge(2, 3, {{200, 5}}), edge(3, 4, {{100, 5}})});
  const Agglomeration r = agglomerate(g, at({0.5}));
  CHECK(r.segment_of[0] == std::vector<uint32_t>{0, 1, 1, 1, 2});
}

TEST_CASE("the region graph counts every voxel pair across a boundary") {
  const int64_t nz = 3, ny = 7, nx = 9;
  Volume fragments(DType::u32, nz, ny, nx), affinities(DType::u8, nz, ny, nx, 3);
  Random random(11);
  for (int64_t i = 0; i < fragments.voxels(); ++i) fragments.data<uint32_t>()[i] = static_cast<uint32_t>(random.integer(0, 5));
  for (int64_t i = 0; i < affinities.elements(); ++i) affinities.data<uint8_t>()[i] = static_cast<uint8_t>(random.integer(0, 255));
  struct Expected {
    uint64_t count = 0, sum = 0;
    std::map<int, uint64_t> bins;
  };
  std::map<std::pair<uint32_t, uint32_t>, Expected> expected;
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t before[3][3] = {{z, y, x - 1}, {z, y - 1, x}, {z - 1, y, x}};
        for (int c = 0; c < 3; ++c) {
          if (before[c][0] < 0 || before[c][1] < 0 || before[c][2] < 0) continue;
          const uint32_t l = fragments.at<uint32_t>(z, y, x), m = fragments.at<uint32_t>(before[c][0], before[c][1], before[c][2]);
          if (l == 0 || m == 0 || l == m) continue;
          Expected& e = expected[{std::min(l, m), std::max(l, m)}];
          const uint8_t v = affinities.at<uint8_t>(z, y, x, c);
          ++e.count;
          e.sum += v;
          ++e.bins[v];
        }
      }
  const RegionGraph g = region_graph(fragments, affinities);
  CHECK(g.fragments == 5);
  CHECK(g.unit == doctest::Approx(1.0 / 255));
  REQUIRE(g.edges.size() == expected.size());
  size_t k = 0;
  for (const auto& [pair, e] : expected) {
    const RegionEdge& got = g.edges[k++];
    CHECK(got.a == pair.first);
    CHECK(got.b == pair.second);
    CHECK(got.count == e.count);
    CHECK(got.sum == e.sum);
    REQUIRE(got.histogram.bins() == e.bins.size());
    size_t j = 0;
    for (const auto& [bin, count] : e.bins) {
      CHECK(got.histogram.bin(j) == bin);
      CHECK(got.histogram.count(j++) == count);
    }
  }
  uint64_t voxels = 0;
  for (uint64_t s : g.sizes) voxels += s;
  CHECK(voxels == static_cast<uint64_t>(fragments.voxels()));
}

TEST_CASE("agglomerating the affinities of labels gives the labels back at every threshold") {
  const Volume labels = synthetic_neurons(2);
  const Volume pieces = label_components(labels, Connectivity::c6, true).labels;
  const Pipeline p = segment(affinities_from_labels(labels), at({0.1, 0.5, 0.9}));
  for (size_t k = 0; k < 3; ++k) {
    const Volume seg = apply_segments(p.fragments.labels, p.result.segment_of[k]);
    const auto s = instance_scores(contingency_table(seg, pieces, true));
    CHECK(s.v_rand > 0.9999);
    CHECK(s.rand_merge == doctest::Approx(1.0));
  }
}

TEST_CASE("with noisy affinities the agglomeration at a middle threshold still finds the objects") {
  const Volume labels = synthetic_neurons(4);
  const Volume pieces = label_components(labels, Connectivity::c6, true).labels;
  for (std::optional<double> percentile : {std::optional<double>{}, std::optional<double>{50}}) {
    const Pipeline p = segment(noisy_affinities(labels, 0.3, 9), at({0.5}, percentile));
    const Volume seg = apply_segments(p.fragments.labels, p.result.segment_of[0]);
    const auto s = instance_scores(contingency_table(seg, pieces, true));
    MESSAGE("noise 0.3, " << std::string(percentile ? "median" : "mean") << ": " << p.fragments.count << " fragments -> " << s.segments
                          << " segments for " << s.truth_objects << " objects, V_rand " << s.v_rand << ", adapted Rand error "
                          << s.adapted_rand_error);
    CHECK(s.v_rand > 0.95);
    CHECK(p.fragments.count > s.segments);  // the watershed alone over-segments
  }
}

TEST_CASE("a higher threshold gives more segments, each within one of a lower threshold") {
  const Volume labels = synthetic_neurons(6);
  const std::vector<double> thresholds = {0.1, 0.3, 0.5, 0.7, 0.9};
  const Pipeline p = segment(noisy_affinities(labels, 0.35, 3), at(thresholds));
  for (size_t k = 1; k < thresholds.size(); ++k) {
    CHECK(p.result.segments[k] >= p.result.segments[k - 1]);
    // Fragments together above are together below.
    const auto& above = p.result.segment_of[k];
    const auto& below = p.result.segment_of[k - 1];
    std::map<uint32_t, uint32_t> contained;
    for (size_t f = 1; f < above.size(); ++f) {
      const auto [it, inserted] = contained.emplace(above[f], below[f]);
      CHECK(it->second == below[f]);
    }
  }
  CHECK(p.result.segments.back() > p.result.segments.front());
}

TEST_CASE("the agglomeration is the same twice and for 1 and 2 threads") {
  const Volume a = noisy_affinities(synthetic_neurons(8), 0.3, 5);
  set_thread_count(1);
  const Pipeline one = segment(a, at({0.3, 0.6}));
  set_thread_count(2);
  const Pipeline two = segment(a, at({0.3, 0.6}));
  const Pipeline again = segment(a, at({0.3, 0.6}));
  set_thread_count(0);
  CHECK(test::same_voxels(one.fragments.labels, two.fragments.labels));
  CHECK(one.result.segment_of == two.result.segment_of);
  CHECK(two.result.segment_of == again.result.segment_of);
  REQUIRE(one.graph.edges.size() == two.graph.edges.size());
  for (size_t e = 0; e < one.graph.edges.size(); ++e) {
    CHECK(one.graph.edges[e].sum == two.graph.edges[e].sum);
    CHECK(one.graph.edges[e].count == two.graph.edges[e].count);
  }
}

TEST_CASE("thresholds outside [0, 1], not increasing, or a percentile outside [0, 100] are refused") {
  const RegionGraph g = graph_of(2, {edge(1, 2, {{128, 10}})});
  CHECK_THROWS_AS(agglomerate(g, at({0.5, 0.3})), InputError);
  CHECK_THROWS_AS(agglomerate(g, at({0.5, 0.5})), InputError);
  CHECK_THROWS_AS(agglomerate(g, at({1.5})), InputError);
  CHECK_THROWS_AS(agglomerate(g, at({})), InputError);
  CHECK_THROWS_AS(agglomerate(g, at({0.5}, 101)), InputError);
  CHECK_THROWS_AS(region_graph(Volume(DType::u32, 2, 3, 3), Volume(DType::u8, 2, 3, 4, 3)), InputError);
}
