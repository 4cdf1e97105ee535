// uniem affinities and uniem agglomerate on real files: ground truth to affinities and back, one
// stack per threshold in a folder, the fragments and the region graph, and the refusals (exit 2,
// one line naming the input, nothing written).
#include <doctest/doctest.h>

#include <fstream>

#include "core/image/label.h"
#include "core/image/metrics.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;
namespace fs = std::filesystem;

TEST_CASE("uniem affinities then agglomerate give the labels back; several thresholds make a folder") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 8,64,64 --seed 4 --quiet").exit_code == 0);
  const fs::path aff = dir / "aff.tif";
  auto r = run_uniem("affinities " + quote(dir / "s" / "neurons") + " " + quote(aff));
  REQUIRE(r.exit_code == 0);
  ReadOptions rgb;
  rgb.color = ColorPolicy::channels;
  const Volume a = read_volume(aff, rgb);
  CHECK(a.channels() == 3);
  CHECK(a.dtype() == DType::u8);

  r = run_uniem("agglomerate " + quote(aff) + " " + quote(dir / "neurons.tif") + " --quiet");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("threshold 0.50:") != std::string::npos);
  const Volume truth = read_volume(dir / "s" / "neurons");
  const Volume pieces = label_components(truth, Connectivity::c6, true).labels;
  const auto s = instance_scores(contingency_table(read_volume(dir / "neurons.tif"), pieces, true));
  CHECK(s.v_rand > 0.9999);

  r = run_uniem("agglomerate " + quote(aff) + " " + quote(dir / "levels") + " --thresholds 0.3,0.5,0.75 --quantile 50 --fragments " +
                quote(dir / "fragments.tif") + " --graph " + quote(dir / "graph.csv") + " --quiet");
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"seg-0.30.tif", "seg-0.50.tif", "seg-0.75.tif"}) CHECK(fs::exists(dir / "levels" / name));
  CHECK(read_volume(dir / "fragments.tif").shape() == truth.shape());
  std::ifstream csv(dir / "graph.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "fragment_a,fragment_b,voxel_pairs,mean_affinity,median_affinity,voxels_a,voxels_b");
  // Again, without --overwrite: refused, the folder as it was.
  r = run_uniem("agglomerate " + quote(aff) + " " + quote(dir / "levels") + " --thresholds 0.3,0.5");
  CHECK(r.exit_code != 0);
  CHECK(fs::exists(dir / "levels" / "seg-0.75.tif"));
}

TEST_CASE("uniem agglomerate refuses a one-channel stack and bad thresholds with exit 2, writing nothing") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 4,32,32 --quiet").exit_code == 0);
  const std::string grey = quote(dir / "s" / "image");
  auto r = run_uniem("agglomerate " + grey + " " + quote(dir / "out.tif"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find((dir / "s" / "image").string()) != std::string::npos);
  CHECK(r.output.find("3 channels") != std::string::npos);
  REQUIRE(run_uniem("affinities " + quote(dir / "s" / "neurons") + " " + quote(dir / "aff.tif")).exit_code == 0);
  const std::string aff = quote(dir / "aff.tif");
  for (const char* bad : {"--thresholds 0.5,0.3", "--thresholds 0.2,1.5", "--thresholds x", "--quantile 120"}) {
    CAPTURE(bad);
    r = run_uniem("agglomerate " + aff + " " + quote(dir / "out") + " " + bad);
    CHECK(r.exit_code == 2);
  }
  r = run_uniem("agglomerate " + aff + " " + quote(dir / "out.tif") + " --thresholds 0.3,0.5");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("folder") != std::string::npos);
  CHECK(!fs::exists(dir / "out"));
  CHECK(!fs::exists(dir / "out.tif"));
}
