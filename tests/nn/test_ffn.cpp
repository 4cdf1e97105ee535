// The flood-filling network: model shapes and gradients, TensorFlow checkpoint reading and
// conversion, the segmenter's mechanics, training data preparation, and training.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/image/metrics.h"
#include "core/image/synth.h"
#include "io/checkpoint.h"
#include "io/tf_checkpoint.h"
#include "nn/ffn/import_tf.h"
#include "nn/ffn/model_folder.h"
#include "nn/ffn/prep.h"
#include "nn/ffn/seeds.h"
#include "nn/ffn/segmenter.h"
#include "nn/ffn/trainer.h"
#include "tests/runtime/gradcheck.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::nn::ffn;
using uniem::test::TempDir;
namespace fs = std::filesystem;

namespace {

FfnConfig tiny(int64_t depth = 2, int64_t filters = 2) {
  return {.depth = depth, .filters = filters, .fov = {3, 5, 5}, .deltas = {1, 2, 2}};
}

// ---- a minimal TensorFlow tensor bundle writer, to test the reader against the format itself
void varint(std::string& s, uint64_t v) {
  while (v >= 0x80) s += static_cast<char>((v & 0x7f) | 0x80), v >>= 7;
  s += static_cast<char>(v);
}
void fixed32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

// One table block with its trailer, appended to `file`; returns the block handle's bytes.
std::string block(std::string& file, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string b;
  for (const auto& [k, v] : entries) {
    varint(b, 0), varint(b, k.size()), varint(b, v.size());
    b += k + v;
  }
  fixed32(b, 0), fixed32(b, 1);  // one restart point at 0
  std::string handle;
  varint(handle, file.size()), varint(handle, b.size());
  file += b;
  file += '\0';
  fixed32(file, crc32c_mask(crc32c(file.data() + file.size() - b.size() - 1, b.size() + 1)));
  return handle;
}

struct FakeTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Writes PREFIX.index and PREFIX.data-00000-of-00001.
void write_bundle(const fs::path& prefix, std::vector<FakeTensor> tensors) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string data;
  std::vector<std::pair<std::string, std::string>> entries{{"", std::string("\x08\x01", 2)}};
  for (const FakeTensor& t : tensors) {
    const std::string bytes(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
    std::string shape;
    for (int64_t d : t.shape) {
      std::string dim;
      varint(dim, 0x08), varint(dim, static_cast<uint64_t>(d));
      varint(shape, 0x12), varint(shape, dim.size());
      shape += dim;
    }
    std::string e;
    varint(e, 0x08), varint(e, 1);  // DT_FLOAT
    varint(e, 0x12), varint(e, shape.size());
    e += shape;
    varint(e, 0x20), varint(e, data.size());
    varint(e, 0x28), varint(e, bytes.size());
    varint(e, 0x35), fixed32(e, crc32c_mask(crc32c(bytes.data(), bytes.size())));
    entries.emplace_back(t.name, e);
    data += bytes;
  }
  std::string file;
  const std::string data_handle = block(file, entries);
  const std::string index_handle = block(file, {{entries.back().first + "~", data_handle}});
  std::string footer;
  varint(footer, 0), varint(footer, 0);
  footer += index_handle;
  footer.resize(40, '\0');
  const uint64_t magic = 0xdb4775248b80fb57ull;
  footer.append(reinterpret_cast<const char*>(&magic), 8);
  std::ofstream(prefix.string() + ".index", std::ios::binary) << file << footer;
  std::ofstream(prefix.string() + ".data-00000-of-00001", std::ios::binary) << data;
}

// The TF form of a model's parameters: seed_update/<layer>/{weights (kD,kH,kW,Cin,Cout), biases}.
std::vector<FakeTensor> as_tensorflow(const FfnModel& model) {
  std::vector<FakeTensor> out;
  for (const auto& [name, t] : model.parameters()) {
    const std::string layer = name.substr(0, name.find('.'));
    const bool weight = name.ends_with(".weight");
    FakeTensor f{"seed_update/" + layer + (weight ? "/weights" : "/biases"), {}, {}};
    const std::vector<double> v = t.to_vector();
    if (!weight) {
      f.shape = {t.size(0)};
      f.values.assign(v.begin(), v.end());
    } else {
      const int64_t co = t.size(0), ci = t.size(1), k = t.size(2);
      f.shape = {k, k, k, ci, co};
      f.values.resize(v.size());
      for (int64_t o = 0; o < co; ++o)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t d = 0; d < k * k * k; ++d)
            f.values[static_cast<size_t>((d * ci + i) * co + o)] = static_cast<float>(v[static_cast<size_t>((o * ci + i) * k * k * k + d)]);
    }
    out.push_back(f);
  }
  out.push_back({"global_step", {}, {7}});
  return out;
}

// A model whose output is the seed plus a constant everywhere (all weights zero, head bias b).
FfnModel constant_update(const FfnConfig& c, float bias) {
  FfnModel m(c, 1);
  NoGradScope no_grad;
  for (const auto& [name, t] : m.parameters()) {
    Tensor& p = const_cast<Tensor&>(t);
    std::fill(p.data<float>(), p.data<float>() + p.numel(), name == "conv_lom.bias" ? bias : 0.0f);
  }
  return m;
}

}  // namespace

TEST_CASE("FFN configuration: presets, checks, JSON") {
  const FfnConfig iso = FfnConfig::preset("isotropic"), sparse = FfnConfig::preset("sparse-z");
  CHECK(iso.depth == 12);
  CHECK(iso.fov == Zyx{33, 33, 33});
  CHECK(iso.deltas == Zyx{8, 8, 8});
  CHECK(sparse.depth == 9);
  CHECK(sparse.fov == Zyx{17, 33, 33});
  CHECK(sparse.deltas == Zyx{4, 8, 8});
  CHECK(sparse.example_radius() == Zyx{12, 24, 24});
  CHECK_THROWS_AS(FfnConfig::preset("dense"), UsageError);
  CHECK(FfnConfig::from_json(sparse.to_json(), "x").to_json() == sparse.to_json());
  FfnConfig bad = iso;
  bad.fov = {32, 33, 33};
  CHECK_THROWS_WITH_AS(bad.check("here"), doctest::Contains("odd"), InputError);
  bad = iso;
  bad.deltas = {17, 8, 8};
  CHECK_THROWS_WITH_AS(bad.check("here"), doctest::Contains("half the field of view"), InputError);
  // What the network sees: the presets see their whole field of view, a shallow network may not.
  CHECK(iso.receptive_field() == 49);
  CHECK(iso.field_of_view_warning().empty());
  CHECK(sparse.field_of_view_warning().empty());
  const FfnConfig shallow{.depth = 2, .filters = 8, .fov = {9, 17, 17}, .deltas = {2, 4, 4}};
  CHECK(shallow.field_of_view_warning().find("use --fov of at most 9 per axis, or --depth 4 or more") != std::string::npos);
  CHECK(FfnConfig{.depth = 2, .filters = 8, .fov = {5, 9, 9}, .deltas = {1, 2, 2}}.field_of_view_warning().empty());
}

TEST_CASE("FFN model: parameters as upstream's convstack_3d, shapes, residual output") {
  const FfnModel m(FfnConfig::preset("isotropic"), 3);
  // 2 + 2 * 11 convolutions of 3x3x3 and the 1x1x1 head, each with a bias.
  CHECK(m.parameters().size() == 2 * (2 + 2 * 11 + 1));
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.tensor.numel();
  CHECK(count == (2 * 32 * 27 + 32) + 23 * (32 * 32 * 27 + 32) + (32 + 1));  // 2,559,233... as upstream's 2.5 MB
  const FfnModel small(tiny(), 1);
  Generator g(5);
  const Tensor image = ops::randn({2, 1, 3, 5, 5}, g), seed = ops::randn({2, 1, 3, 5, 5}, g);
  const Tensor out = small.forward(image, seed);
  CHECK(out.shape() == image.shape());
  const FfnModel zero = constant_update(tiny(), 0.5f);
  const std::vector<double> o = zero.forward(image, seed).to_vector(), s = seed.to_vector();
  for (size_t i = 0; i < o.size(); ++i) CHECK(o[i] == doctest::Approx(s[i] + 0.5).epsilon(1e-6));
  CHECK_THROWS_AS(small.forward(image, ops::randn({2, 1, 3, 5, 4}, g)), Error);
}

TEST_CASE("FFN model: gradients of inputs and every parameter match finite differences") {
  const FfnModel m(tiny(2, 2), 7, ScalarType::f64);
  std::vector<Tensor> inputs{testing::random_input({1, 1, 3, 5, 5}, 1), testing::random_input({1, 1, 3, 5, 5}, 2)};
  inputs[0].set_requires_grad();
  inputs[1].set_requires_grad();
  for (const auto& p : m.parameters()) inputs.push_back(p.tensor);
  testing::check_gradients(
      "ffn", [&](const std::vector<Tensor>& x) { return testing::project(m.forward(x[0], x[1])); }, inputs, 1e-6, 1e-5);
}

TEST_CASE("TensorFlow checkpoints: a bundle is read back exactly; damage is named") {
  TempDir dir;
  const fs::path prefix = dir / "model.ckpt-7";
  write_bundle(prefix, {{"b/w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"a", {}, {42}}});
  for (const fs::path& p : {prefix, fs::path(prefix.string() + ".index"), dir.path()}) {
    const auto t = read_tf_checkpoint(p);
    REQUIRE(t.size() == 2);
    CHECK(t.at("a").values == std::vector<double>{42});
    CHECK(t.at("b/w").shape == std::vector<int64_t>{2, 3});
    CHECK(t.at("b/w").values == std::vector<double>{1, 2, 3, 4, 5, 6});
    CHECK(t.at("b/w").dtype == "float32");
  }
  CHECK_THROWS_WITH_AS(read_tf_checkpoint(dir / "nothing"), doctest::Contains("does not exist"), InputError);
  // A flipped bit in the data fails its CRC-32C; a short data file is truncated; so is the index.
  const fs::path data = prefix.string() + ".data-00000-of-00001";
  std::string bytes;
  {
    std::ifstream in(data, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string flipped = bytes;
  flipped[5] ^= 1;
  std::ofstream(data, std::ios::binary | std::ios::trunc) << flipped;
  CHECK_THROWS_WITH_AS(read_tf_checkpoint(prefix), doctest::Contains("CRC-32C"), InputError);
  std::ofstream(data, std::ios::binary | std::ios::trunc) << bytes.substr(0, 10);
  CHECK_THROWS_WITH_AS(read_tf_checkpoint(prefix), doctest::Contains("truncated"), InputError);
  fs::remove(data);
  CHECK_THROWS_WITH_AS(read_tf_checkpoint(prefix), doctest::Contains("missing"), InputError);
  const fs::path index = prefix.string() + ".index";
  fs::resize_file(index, fs::file_size(index) - 3);
  CHECK_THROWS_WITH_AS(read_tf_checkpoint(prefix), doctest::Contains("not a TensorFlow checkpoint index"), InputError);
}

TEST_CASE("TensorFlow checkpoints: convstack_3d weights convert to the same network") {
  TempDir dir;
  const FfnConfig c = tiny(3, 4);
  const FfnModel original(c, 11);
  write_bundle(dir / "ffn", as_tensorflow(original));
  const ImportedWeights w = convert_convstack(read_tf_checkpoint(dir / "ffn"), "ffn");
  CHECK(w.depth == 3);
  CHECK(w.filters == 4);
  CHECK(w.step == 7);
  FfnModel copy(c, 99);
  for (const auto& [name, t] : copy.parameters()) const_cast<Tensor&>(t).copy_from(w.tensors.at(name));
  Generator g(2);
  const Tensor image = ops::randn({1, 1, 3, 5, 5}, g), seed = ops::randn({1, 1, 3, 5, 5}, g);
  CHECK(original.forward(image, seed).to_vector() == copy.forward(image, seed).to_vector());

  auto extra = as_tensorflow(original);
  extra.push_back({"seed_update/conv9_a/weights", {1}, {0}});
  write_bundle(dir / "extra", extra);
  CHECK_THROWS_WITH_AS(convert_convstack(read_tf_checkpoint(dir / "extra"), "extra"), doctest::Contains("unexpected variable"), InputError);
  write_bundle(dir / "other", {{"dense/kernel", {2}, {1, 2}}});
  CHECK_THROWS_WITH_AS(convert_convstack(read_tf_checkpoint(dir / "other"), "other"), doctest::Contains("not a convstack_3d"), InputError);
}

TEST_CASE("FFN segmenter: a network that always says 'object' makes one object of what it visited") {
  const FfnConfig c{.depth = 1, .filters = 1, .fov = {5, 5, 5}, .deltas = {2, 2, 2}};
  const FfnModel yes = constant_update(c, 10.0f), no = constant_update(c, -10.0f);
  Volume image(DType::u8, 12, 14, 16);
  InferenceOptions o;
  o.min_segment_size = 10;
  {
    Segmenter s(yes, image, o);
    SegmentationState state = s.start();
    s.run({{6, 7, 8}, {5, 5, 5}, {0, 0, 0}}, state);
    CHECK(state.max_id == 1);
    // Ties on a face go to its first voxel, so the field of view wanders towards low corners
    // (as upstream's argmax would); every voxel it saw joins the object.
    const auto covered = std::count(state.labels.begin(), state.labels.end(), 1);
    CHECK(covered >= 5 * 5 * 5 + 2 * 5 * 5);
    CHECK(covered == state.counters["voxels_segmented"]);
    CHECK(std::count(state.labels.begin(), state.labels.end(), 0) == 12 * 14 * 16 - covered);
    CHECK(state.counters["predictions"] >= 2);
    CHECK(state.counters["segments"] == 1);
    CHECK(state.counters.value("seed_invalid_position", 0.0) + state.counters.value("seed_too_close", 0.0) == 2);
    CHECK(state.counters["seeds_tried"] == 3);
    CHECK(state.next_seed == 3);
    // Each lattice cell (2 voxels wide) at most once: 4 x 5 x 6 cells inside the margins.
    CHECK(state.counters["predictions"] <= 4 * 5 * 6);
  }
  {
    Segmenter s(no, image, o);
    SegmentationState state = s.start();
    s.run({{6, 7, 8}}, state);
    CHECK(state.max_id == 0);
    CHECK(state.counters["seed_too_weak"] == 1);
    CHECK(state.labels[static_cast<size_t>((6 * 14 + 7) * 16 + 8)] == -1);
  }
  o.min_segment_size = 100000;
  Segmenter s(yes, image, o);
  SegmentationState state = s.start();
  s.run({{6, 7, 8}}, state);
  CHECK(state.counters["segment_too_small"] == 1);
  CHECK(state.max_id == 0);
  Volume small(DType::u8, 4, 20, 20);
  CHECK_THROWS_WITH_AS(Segmenter(yes, small, o), doctest::Contains("smaller than the network's field of view"), InputError);
}

TEST_CASE("FFN segmenter: with --disconnect-threshold, voxels once judged outside cannot rise again") {
  // The network adds 0.5 to every logit. With pad 0.3 (logit -0.85) a first prediction puts its
  // field of view at -0.35, outside the object (segment threshold 0.5) but enough to move there
  // (move threshold 0.3); a second prediction over the same voxels would lift them to +0.15.
  const FfnConfig c{.depth = 1, .filters = 1, .fov = {5, 5, 5}, .deltas = {2, 2, 2}};
  const FfnModel lift = constant_update(c, 0.5f);
  Volume image(DType::u8, 12, 14, 16);
  InferenceOptions o;
  o.pad_value = 0.3;
  o.move_threshold = 0.3;
  o.segment_threshold = 0.5;
  o.min_segment_size = 1;
  auto object_size = [&](double disconnect) {
    o.disconnect_threshold = disconnect;
    Segmenter s(lift, image, o);
    SegmentationState state = s.start();
    s.run({{6, 7, 8}}, state);
    CHECK(state.counters["predictions"] > 1);
    return std::count(state.labels.begin(), state.labels.end(), 1);
  };
  CHECK(object_size(-1) > 1);
  CHECK(object_size(0.005) == 1);  // only the seed voxel stays above 0.5
  o.disconnect_threshold = 1.5;
  CHECK_THROWS_AS(o.check(), UsageError);
}

TEST_CASE("FFN seeds: peaks lie in cell interiors, one per cell here; grid") {
  // Three bright blocks separated by dark walls.
  Volume image(DType::u8, 24, 24, 60);
  for (int64_t z = 0; z < 24; ++z)
    for (int64_t y = 0; y < 24; ++y)
      for (int64_t x = 0; x < 60; ++x) image.at<uint8_t>(z, y, x) = x % 20 < 2 ? 20 : 200;
  const auto seeds = peak_seeds(image);
  REQUIRE(!seeds.empty());
  for (const Zyx& p : seeds) CHECK(p[2] % 20 >= 2);
  CHECK(std::is_sorted(seeds.begin(), seeds.end()));
  CHECK(peak_seeds(image) == seeds);
  CHECK(grid_seeds({10, 10, 10}, {4, 4, 4}, {1, 1, 1}) ==
        std::vector<Zyx>{{1, 1, 1}, {1, 1, 5}, {1, 5, 1}, {1, 5, 5}, {5, 1, 1}, {5, 1, 5}, {5, 5, 1}, {5, 5, 5}});
}

TEST_CASE("FFN prep: object-mask fraction classes and balanced coordinates") {
  // Two objects split at x = 10, plus a small one that --min-size drops.
  Volume labels(DType::u16, 9, 9, 20);
  for (int64_t z = 0; z < 9; ++z)
    for (int64_t y = 0; y < 9; ++y)
      for (int64_t x = 0; x < 20; ++x) labels.at<uint16_t>(z, y, x) = x < 10 ? 1 : 2;
  labels.at<uint16_t>(0, 0, 0) = 3;
  PrepOptions o;
  o.radius = {1, 1, 1};
  o.margin = {1, 1, 1};
  o.thresholds = {0.5, 0.9};
  o.min_size = 5;
  const Volume classes = object_mask_classes(labels, o, "labels");
  CHECK(classes.at<uint8_t>(0, 4, 4) == 255);  // border band
  CHECK(classes.at<uint8_t>(4, 4, 4) == 3);    // deep inside: fraction 1 >= 0.9
  CHECK(classes.at<uint8_t>(4, 4, 9) == 2);    // at the interface: 18/27 in [0.5, 0.9)
  CHECK(classes.at<uint8_t>(4, 4, 10) == 2);
  o.min_size = 1000;
  CHECK_THROWS_WITH_AS(object_mask_classes(labels, o, "labels"), doctest::Contains("no object has at least 1000"), InputError);
  o.min_size = 5;
  o.max_coordinates = 60;
  const Coordinates c = sample_coordinates({classes}, o);
  CHECK(c.class_voxels[1] == 0);
  CHECK(c.class_voxels[2] == 7 * 7 * 2);
  CHECK(c.class_voxels[3] == 7 * 7 * 16);
  REQUIRE(c.coordinates.size() == 60);  // 30 per non-empty class
  int64_t edge = 0;
  for (const Coordinate& p : c.coordinates) {
    CHECK(p.z >= 1);
    CHECK(p.z <= 7);
    edge += p.x == 9 || p.x == 10;
  }
  CHECK(edge == 30);
  CHECK(sample_coordinates({classes}, o).coordinates.size() == 60);
}

TEST_CASE("FFN training: on a synthetic volume the loss falls and the predicted masks become right") {
  TempDir dir;
  SynthOptions so;
  so.nz = 24, so.ny = 64, so.nx = 64;
  so.voxel_size = {12, 6, 6, true};
  const SynthVolume v = synthesize(so);
  ModelDescription m;
  m.network = {.depth = 2, .filters = 8, .fov = {5, 9, 9}, .deltas = {1, 2, 2}};
  m.image_mean = 145;
  m.image_stddev = 45;
  PrepOptions p;
  p.radius = p.margin = m.network.example_radius();
  p.min_size = 500;
  TrainingData data;
  data.images.push_back(v.image);
  data.labels.push_back(v.neurons);
  data.margin = p.margin;
  for (const Coordinate& c : sample_coordinates({object_mask_classes(v.neurons, p, "neurons")}, p).coordinates)
    data.coordinates.push_back(c);
  TrainOptions o;
  o.optimizer = "adam";
  o.steps = 300;
  o.log_every = 50;
  o.checkpoint_every = 300;
  const TrainResult r = train(m, o, data, dir / "model", false, [](const std::string&) {});
  std::ifstream log(dir / "model" / training_log);
  std::vector<double> loss;
  for (std::string line; std::getline(log, line);) loss.push_back(nlohmann::json::parse(line)["loss"].get<double>());
  REQUIRE(loss.size() == 6);
  MESSAGE("loss every 50 steps: " << loss[0] << " ... " << loss[5] << ", F1 " << r.f1);
  CHECK(loss[5] < 0.6 * loss[0]);
  CHECK(r.f1 > 0.4);
  CHECK(r.precision > 0.8);
  // The same seed gives the same weights.
  train(m, o, data, dir / "again", false, [](const std::string&) {});
  const Checkpoint a = load_checkpoint(dir / "model" / model_checkpoint), b = load_checkpoint(dir / "again" / model_checkpoint);
  for (size_t i = 0; i < a.parameters.size(); ++i) CHECK(a.parameters[i].tensor.to_vector() == b.parameters[i].tensor.to_vector());
}
