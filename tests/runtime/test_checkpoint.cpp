// Checkpoints: exact resume, and every kind of bad file refused with a message that says why.
#include <doctest/doctest.h>

#include <fstream>

#include "core/optim.h"
#include "io/checkpoint.h"
#include "tests/runtime/tiny_net.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::testing;
using uniem::test::TempDir;

namespace {

double train_step(TinyNet& net, Optimizer& opt, Generator& data) {
  auto [x, y] = disc_batch(2, 16, data);
  opt.zero_grad();
  Tensor loss = ops::sigmoid_cross_entropy(net.forward(x, true), y);
  loss.backward();
  opt.step();
  return loss.item();
}

Checkpoint snapshot(TinyNet& net, Optimizer& opt, const Generator& data) {
  Checkpoint c;
  c.architecture = "tiny";
  c.config = {{"width", 8}};
  c.step = opt.steps();
  c.generators.emplace("data", data);
  c.extra = {{"optimizer", opt.kind()}, {"learning_rate", opt.learning_rate()}};
  c.parameters = net.parameters();
  c.buffers = net.buffers();
  c.optimizer_state = opt.state();
  return c;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write(const std::filesystem::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

}  // namespace

TEST_CASE("save, load and resume: the resumed run repeats the original bit for bit") {
  TempDir dir;
  const auto file = dir.path() / "model.uniem";
  TinyNet net(11);
  Adam opt(net.parameters(), {.lr = 0.01, .beta1 = 0.5});
  Generator data(12);
  for (int i = 0; i < 5; ++i) train_step(net, opt, data);
  save_checkpoint(file, snapshot(net, opt, data));
  std::vector<double> original;
  for (int i = 0; i < 5; ++i) original.push_back(train_step(net, opt, data));

  const Checkpoint c = load_checkpoint(file, "tiny");
  CHECK(c.step == 5);
  CHECK(c.config["width"] == 8);
  CHECK(c.extra["optimizer"] == "adam");
  TinyNet fresh(999);  // different initial weights, all overwritten
  Adam fresh_opt(fresh.parameters(), {.lr = 0.01, .beta1 = 0.5});
  restore_tensors(file, "parameter", c.parameters, fresh.parameters());
  restore_tensors(file, "buffer", c.buffers, fresh.buffers());
  restore_tensors(file, "optimizer state", c.optimizer_state, fresh_opt.state());
  fresh_opt.set_steps(c.step);
  Generator resumed = c.generators.at("data");
  for (int i = 0; i < 5; ++i) CHECK(train_step(fresh, fresh_opt, resumed) == original[static_cast<size_t>(i)]);
}

TEST_CASE("truncated, corrupt, foreign, other-version and other-architecture checkpoints are refused") {
  TempDir dir;
  const auto good = dir.path() / "good.uniem", bad = dir.path() / "bad.uniem";
  TinyNet net(1);
  Sgd opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  Generator data(3);
  train_step(net, opt, data);
  save_checkpoint(good, snapshot(net, opt, data));
  const std::string bytes = read(good);

  write(bad, bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH_AS(load_checkpoint(bad), doctest::Contains("truncated"), InputError);
  std::string flipped = bytes;
  flipped[flipped.size() - 200] ^= 0x10;
  write(bad, flipped);
  CHECK_THROWS_WITH_AS(load_checkpoint(bad), doctest::Contains("checksum"), InputError);
  std::string other_version = bytes;
  other_version[8] = 2;
  write(bad, other_version);
  CHECK_THROWS_WITH_AS(load_checkpoint(bad), doctest::Contains("format version 2"), InputError);
  write(bad, "this is a PNG, honestly");
  CHECK_THROWS_WITH_AS(load_checkpoint(bad), doctest::Contains("not a uniem checkpoint"), InputError);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir.path() / "missing.uniem"), doctest::Contains("cannot open"), InputError);
  CHECK_THROWS_WITH_AS(load_checkpoint(good, "unet2d"), doctest::Contains("of a 'tiny' model, not of a 'unet2d'"),
                       InputError);
  // Right file format, wrong network shape: the message names the tensor.
  const Checkpoint c = load_checkpoint(good);
  TinyNet wider(1, 12);
  CHECK_THROWS_WITH_AS(restore_tensors(good, "parameter", c.parameters, wider.parameters()),
                       doctest::Contains("'conv1.weight' is f32 (8, 1, 3, 3) on cpu in the checkpoint but f32 (12, 1, 3, 3)"),
                       InputError);
  NamedTensors fewer = net.parameters();
  fewer.pop_back();
  CHECK_THROWS_WITH_AS(restore_tensors(good, "parameter", c.parameters, fewer),
                       doctest::Contains("the model does not"), InputError);
  // A failed save leaves the previous checkpoint whole.
  CHECK_THROWS(save_checkpoint(dir.path() / "no-such-dir" / "x.uniem", c));
  CHECK(read(good) == bytes);
}
