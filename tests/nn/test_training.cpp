// Tiled inference, the trainer and model folders, on real files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "io/checkpoint.h"
#include "nn/model_folder.h"
#include "io/stack.h"
#include "nn/tiled_inference.h"
#include "nn/trainer.h"
#include "nn/training_samples.h"
#include "nn/validation.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::nn;
using uniem::test::TempDir;
namespace fs = std::filesystem;

namespace {
NetworkConfig tiny_unet() {
  NetworkConfig c;
  c.filters = 4;
  c.depth = 2;
  return c;
}

// Sections with bright squares on noise; the target marks the squares.
std::vector<Section> squares(int64_t n, int64_t size, uint64_t seed) {
  Random r(seed);
  std::vector<Section> out;
  for (int64_t z = 0; z < n; ++z) {
    Section s;
    s.name = "section " + std::to_string(z);
    s.height = s.width = size;
    s.image.resize(static_cast<size_t>(size * size));
    s.target.assign(s.image.size(), 0);
    for (auto& v : s.image) v = static_cast<float>(0.3 + 0.1 * r.normal());
    for (int k = 0; k < 6; ++k) {
      const int64_t y0 = r.integer(0, size - 12), x0 = r.integer(0, size - 12), side = r.integer(5, 11);
      for (int64_t y = y0; y < y0 + side; ++y)
        for (int64_t x = x0; x < x0 + side; ++x) {
          s.image[static_cast<size_t>(y * size + x)] += 0.4f;
          s.target[static_cast<size_t>(y * size + x)] = 1;
        }
    }
    out.push_back(std::move(s));
  }
  return out;
}

ModelDescription description(const NetworkConfig& c) {
  ModelDescription m;
  m.network = c;
  return m;
}

// Three training sections and one held out, of squares.
Split squares_split() {
  Split split;
  split.train = squares(3, 64, 1);
  split.validation = squares(1, 64, 2);
  return split;
}

void check_same_checkpoints(const Checkpoint& a, const Checkpoint& b) {
  REQUIRE(a.parameters.size() == b.parameters.size());
  REQUIRE(a.buffers.size() == b.buffers.size());
  REQUIRE(a.optimizer_state.size() == b.optimizer_state.size());
  for (size_t i = 0; i < a.parameters.size(); ++i) CHECK(a.parameters[i].tensor.to_vector() == b.parameters[i].tensor.to_vector());
  for (size_t i = 0; i < a.buffers.size(); ++i) CHECK(a.buffers[i].tensor.to_vector() == b.buffers[i].tensor.to_vector());
  for (size_t i = 0; i < a.optimizer_state.size(); ++i)
    CHECK(a.optimizer_state[i].tensor.to_vector() == b.optimizer_state[i].tensor.to_vector());
}

TrainOptions quick(int64_t steps) {
  TrainOptions o;
  o.patch = 32;
  o.batch = 2;
  o.steps = steps;
  o.learning_rate = 3e-3;
  o.validate_every = 4;
  o.checkpoint_every = 4;
  o.log_every = 2;
  return o;
}
}  // namespace

TEST_CASE("tile plans cover the section with whole tiles") {
  TileOptions o{.tile = 64, .overlap = 16};
  TilePlan p = plan_tiles(100, 300, 4, o);
  CHECK(p.tile == 64);
  CHECK(p.margin == 8);
  CHECK(p.padded_height >= 100 + 16);
  CHECK(p.padded_width >= 300 + 16);
  CHECK((p.padded_width - p.tile) % (p.tile - p.overlap) == 0);
  // A small section gets one tile, rounded up to the network's multiple.
  p = plan_tiles(20, 30, 8, o);
  CHECK(p.tiles() == 1);
  CHECK(p.tile == 48);
  // Overlap is at most half a tile.
  o.overlap = 60;
  CHECK(plan_tiles(500, 500, 4, o).overlap == 32);
}

TEST_CASE("tiled inference agrees with one whole-section tile: blending leaves no seams") {
  auto net = make_network(tiny_unet(), 3);
  const LossConfig loss;
  const auto s = squares(1, 96, 4)[0];
  const auto whole = predict_section(*net, loss, s.image.data(), 96, 96, {.tile = 256, .overlap = 32});
  PredictStats stats;
  const auto tiled = predict_section(*net, loss, s.image.data(), 96, 96, {.tile = 32, .overlap = 16, .batch = 3}, &stats);
  CHECK(stats.tiles == 36);
  CHECK(stats.network_bytes > 0);
  double worst = 0, total = 0;
  for (size_t i = 0; i < whole.size(); ++i) {
    worst = std::max(worst, std::abs(double(whole[i]) - tiled[i]));
    total += std::abs(double(whole[i]) - tiled[i]);
  }
  CHECK(worst < 0.05);
  CHECK(total / static_cast<double>(whole.size()) < 0.005);
  // The 8 symmetries average to probabilities too.
  const auto flipped = predict_section(*net, loss, s.image.data(), 96, 96, {.tile = 64, .overlap = 16, .flips = true});
  for (float v : flipped) REQUIRE((v >= 0 && v <= 1));
}

TEST_CASE("training learns, logs, validates, saves; a resumed run equals the uninterrupted one") {
  TempDir dir;
  const Split split = squares_split();
  const ModelDescription m = description(tiny_unet());
  const auto quiet = [](const std::string&) {};
  const TrainResult full = train(m, quick(16), split, dir / "full", false, quiet);
  CHECK(full.steps == 16);
  CHECK(full.best_scores["jaccard"].get<double>() > 0.45);
  CHECK(full.best_scores["v_rand_thinned"].get<double>() > 0);  // squares are ~10% of the pixels
  for (const char* f : {model_json, last_checkpoint, best_checkpoint, training_log}) CHECK(fs::exists(dir / "full" / f));
  std::ifstream log(dir / "full" / training_log);
  int progress = 0, validations = 0;
  for (std::string line; std::getline(log, line);) {
    const auto j = nlohmann::json::parse(line);
    progress += j.contains("loss");
    validations += j.contains("validation");
  }
  CHECK(progress == 8);
  CHECK(validations == 4);
  // A sample picture at each validation: input, output and target side by side, 4 pixels apart.
  const int64_t validated_every = 16 / validations;
  for (int64_t step = validated_every; step <= 16; step += validated_every) {
    const fs::path sample = dir / "full" / samples_folder / ("step-" + std::to_string(step) + ".png");
    REQUIRE_MESSAGE(fs::exists(sample), sample.string());
    const Volume picture = read_volume(sample);
    const Section& first = split.validation.front();
    CHECK(picture.ny() == std::min<int64_t>(256, first.height));
    CHECK(picture.nx() == 3 * std::min<int64_t>(256, first.width) + 8);
  }

  train(m, quick(8), split, dir / "part", false, quiet);
  train(m, quick(16), split, dir / "part", true, quiet);
  check_same_checkpoints(load_checkpoint(dir / "full" / last_checkpoint), load_checkpoint(dir / "part" / last_checkpoint));

  // The folder alone is enough to predict, and gives what the trained network gave.
  LoadedModel loaded = load_model(dir / "full");
  CHECK(loaded.checkpoint == best_checkpoint);
  CHECK(loaded.description.network.to_json() == m.network.to_json());
}

TEST_CASE("resume refuses a folder without last.checkpoint, or with a damaged checkpoint, naming the file") {
  TempDir dir;
  const Split split = squares_split();
  const ModelDescription m = description(tiny_unet());
  const auto quiet = [](const std::string&) {};
  train(m, quick(4), split, dir / "m", false, quiet);
  const auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string log = read(dir / "m" / training_log);
  REQUIRE(!log.empty());

  // No last.checkpoint: refused, the log kept (it was started again from step 0 and overwritten).
  fs::copy(dir / "m", dir / "no-last", fs::copy_options::recursive);
  fs::remove(dir / "no-last" / last_checkpoint);
  CHECK(test::input_error_message([&] { train(m, quick(8), split, dir / "no-last", true, quiet); })
            .starts_with((dir / "no-last" / last_checkpoint).string() + ": missing, so there is no training to resume"));
  CHECK(read(dir / "no-last" / training_log) == log);
  CHECK_FALSE(fs::exists(dir / "no-last" / last_checkpoint));

  // A truncated or bit-flipped best.checkpoint (or last.checkpoint) is refused, naming it.
  for (const char* name : {best_checkpoint, last_checkpoint}) {
    CAPTURE(name);
    const fs::path copy = dir / (std::string("damaged-") + name);
    fs::copy(dir / "m", copy, fs::copy_options::recursive);
    fs::resize_file(copy / name, fs::file_size(copy / name) / 2);
    std::string message = test::input_error_message([&] { train(m, quick(8), split, copy, true, quiet); });
    CHECK(message.starts_with((copy / name).string() + ": checkpoint is truncated"));
    CHECK(message.find("--resume") != std::string::npos);
    CHECK(read(copy / training_log) == log);
    fs::remove_all(copy);
    fs::copy(dir / "m", copy, fs::copy_options::recursive);
    std::string bytes = read(copy / name);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
    std::ofstream(copy / name, std::ios::binary) << bytes;
    message = test::input_error_message([&] { train(m, quick(8), split, copy, true, quiet); });
    CHECK(message.starts_with((copy / name).string() + ": checkpoint is corrupt"));
  }

  // best.checkpoint moved aside: resuming writes a new one at the next validation.
  fs::remove(dir / "m" / best_checkpoint);
  train(m, quick(8), split, dir / "m", true, quiet);
  CHECK(load_checkpoint(dir / "m" / best_checkpoint).step > 4);
  CHECK(load_checkpoint(dir / "m" / last_checkpoint).step == 8);
}

TEST_CASE("weight averaging: checkpoints hold the average, resuming continues exactly") {
  TempDir dir;
  const Split split = squares_split();
  const ModelDescription m = description(tiny_unet());
  const auto quiet = [](const std::string&) {};
  TrainOptions o = quick(16);
  o.average = 0.9;
  const TrainResult full = train(m, o, split, dir / "full", false, quiet);
  CHECK(full.best_scores["jaccard"].get<double>() > 0.45);
  train(m, quick(16), split, dir / "plain", false, quiet);
  TrainOptions first = o;
  first.steps = 8;
  train(m, first, split, dir / "part", false, quiet);
  train(m, o, split, dir / "part", true, quiet);
  const Checkpoint a = load_checkpoint(dir / "full" / last_checkpoint), plain = load_checkpoint(dir / "plain" / last_checkpoint);
  check_same_checkpoints(a, load_checkpoint(dir / "part" / last_checkpoint));
  // The training weights ride along as "<name>.training" and equal the plain run's weights; the
  // saved parameters (the average) differ from them.
  size_t training = 0;
  for (const NamedTensor& t : a.optimizer_state)
    if (t.name.ends_with(".training")) {
      ++training;
      for (const NamedTensor& q : plain.parameters)
        if (q.name + ".training" == t.name) CHECK(q.tensor.to_vector() == t.tensor.to_vector());
    }
  CHECK(training == a.parameters.size() + a.buffers.size());
  CHECK(a.parameters[0].tensor.to_vector() != plain.parameters[0].tensor.to_vector());
}

TEST_CASE("model folders from elsewhere are refused, naming the file") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(load_model(dir / "none"), doctest::Contains("no such model folder"), InputError);
  fs::create_directory(dir / "empty");
  CHECK_THROWS_WITH_AS(load_model(dir / "empty"), doctest::Contains("not a uniem 2D model folder"), InputError);
  Split split;
  split.train = squares(1, 32, 1);
  const auto quiet = [](const std::string&) {};
  train(description(tiny_unet()), quick(2), split, dir / "m", false, quiet);
  CHECK_NOTHROW(load_model(dir / "m"));  // no validation: falls back to the last checkpoint
  // Another version.
  auto j = description(tiny_unet()).to_json();
  j["version"] = 99;
  std::ofstream(dir / "m" / model_json) << j.dump();
  CHECK_THROWS_WITH_AS(load_model(dir / "m"), doctest::Contains("version 99"), InputError);
  // Another architecture than the checkpoint holds.
  NetworkConfig other = tiny_unet();
  other.family = "resnet";
  std::ofstream(dir / "m" / model_json) << description(other).to_json().dump();
  CHECK_THROWS_WITH_AS(load_model(dir / "m"), doctest::Contains(last_checkpoint), InputError);
  other = tiny_unet();
  other.filters = 8;
  std::ofstream(dir / "m" / model_json) << description(other).to_json().dump();
  CHECK_THROWS_WITH_AS(load_model(dir / "m"), doctest::Contains("another network"), InputError);
  // A truncated checkpoint.
  std::ofstream(dir / "m" / model_json) << description(tiny_unet()).to_json().dump();
  fs::resize_file(dir / "m" / last_checkpoint, 100);
  CHECK_THROWS_AS(load_model(dir / "m"), InputError);
}

TEST_CASE("multi-class (softmax) and multi-label (sigmoid) targets train and are scored per class") {
  TempDir dir;
  const auto quiet = [](const std::string&) {};
  // Classes: 0 background, 1 square interior, 2 square rim; masks: interior and rim.
  auto classes = squares(2, 64, 5);
  for (auto& s : classes)
    for (int64_t y = 1; y + 1 < s.height; ++y)
      for (int64_t x = 1; x + 1 < s.width; ++x) {
        const size_t i = static_cast<size_t>(y * s.width + x);
        if (s.target[i] == 1 && (s.target[i - 1] == 0 || s.target[i + 1] == 0)) s.target[i] = 2;
      }
  Split split;
  split.train = classes;
  split.validation = {classes[1]};
  ModelDescription m = description(tiny_unet());
  m.network.out_channels = 3;
  m.loss.kind = "softmax";
  m.loss.class_weights = {1, 1, 2};
  m.target.kind = "classes";
  m.target.classes = 3;
  TrainResult r = train(m, quick(4), split, dir / "softmax", false, quiet);
  CHECK(r.best_scores["jaccard"].get<double>() >= 0);
  CHECK_FALSE(r.best_scores.contains("v_rand"));
  LoadedModel loaded = load_model(dir / "softmax");
  const auto p = predict_section(*loaded.network, loaded.description.loss, classes[0].image.data(), 64, 64, {.tile = 64});
  REQUIRE(p.size() == 3 * 64 * 64);
  for (size_t i = 0; i < 64 * 64; i += 97) CHECK(p[i] + p[i + 4096] + p[i + 8192] == doctest::Approx(1.0).epsilon(1e-4));
  const auto best = predicted_target(loaded.description.loss, p, 3, 64 * 64, 0.5);
  CHECK(best.size() == 64 * 64);
  CHECK(*std::max_element(best.begin(), best.end()) <= 2);

  for (auto& s : classes) {  // two masks per pixel: interior-or-rim, rim
    std::vector<uint8_t> two(s.target.size() * 2);
    for (size_t i = 0; i < s.target.size(); ++i) {
      two[i] = s.target[i] > 0;
      two[i + s.target.size()] = s.target[i] == 2;
    }
    s.target = two;
    s.target_channels = 2;
  }
  split.train = classes;
  split.validation = {classes[1]};
  m.network.out_channels = 2;
  m.loss = {};
  m.loss.kind = "sigmoid";
  m.target.kind = "channels";
  m.target.classes = 2;
  r = train(m, quick(4), split, dir / "multilabel", false, quiet);
  CHECK(r.best_scores["jaccard"].get<double>() > 0);
}
