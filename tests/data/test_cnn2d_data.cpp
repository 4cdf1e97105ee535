// 2D CNNs on real EM data (../shared/data), a few minutes of training each, asserting safe lower
// bounds so that a regression in the runtime, the networks or the trainer shows. The full-length
// runs and their figures are in bench/RESULTS.md. Skipped (exit code 77) without the data.
#include <cstdio>
#include <filesystem>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/data/data_test_main.h"

#include "nn/trainer.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::nn;
namespace fs = std::filesystem;

namespace {
const fs::path& data = test::shared_data;

TrainOptions short_run(int64_t steps) {
  TrainOptions o;
  o.patch = 128;
  o.batch = 4;
  o.steps = steps;
  o.learning_rate = 2e-3;
  o.validate_every = steps;
  o.checkpoint_every = steps;
  o.log_every = steps;
  return o;
}
}  // namespace

TEST_CASE("mitochondria of the UNI-EM tutorial section: a small U-Net learns them in a few minutes") {
  ModelDescription m;
  m.network.filters = 8;
  m.network.depth = 3;
  m.loss.kind = "logistic";
  m.target.threshold = 128;  // the tutorial's labels are grey: 252/253 on 0
  const Split split = split_validation(load_sections(data / "uniem-mito" / "image", data / "uniem-mito" / "label", 1, m.target), "25%");
  test::TempDir dir;
  const TrainResult r = train(m, short_run(200), split, dir / "model", false, [](const std::string&) {});
  // 200 steps gave Jaccard 0.42 (2026-11-22, 2 cores); an untrained network or a broken
  // gradient stays below 0.1 (mitochondria are 6% of the pixels).
  CHECK(r.best_scores["jaccard"].get<double>() > 0.3);
}

TEST_CASE("ISBI 2012 membranes: a small U-Net separates cell interiors from membranes") {
  ModelDescription m;
  m.network.filters = 8;
  m.network.depth = 4;
  m.loss.kind = "logistic";
  const Split split = split_validation(load_sections(data / "isbi2012" / "train" / "image", data / "isbi2012" / "train" / "label", 1, m.target), "5");
  test::TempDir dir;
  const TrainResult r = train(m, short_run(150), split, dir / "model", false, [](const std::string&) {});
  // Interior is 77% of the pixels, so all-interior scores 0.77: the bound asks for real contours.
  CHECK(r.best_scores["jaccard"].get<double>() > 0.83);
}
