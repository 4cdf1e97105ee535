// The four 2D families: shapes, parameters, determinism, and that each learns a simple task.
#include <doctest/doctest.h>

#include <set>

#include "core/autograd.h"
#include "core/error.h"
#include "core/optim.h"
#include "nn/losses.h"
#include "nn/network.h"
#include "tests/runtime/tiny_net.h"

using namespace uniem;
using namespace uniem::nn;

namespace {
NetworkConfig small(const std::string& family, int64_t in = 1, int64_t out = 1) {
  NetworkConfig c;
  c.family = family;
  c.in_channels = in;
  c.out_channels = out;
  c.filters = 4;
  c.depth = 3;
  c.blocks = 2;
  c.layers = 2;
  c.growth = 4;
  return c;
}
const char* const families[] = {"unet", "resnet", "highway", "densenet"};
}  // namespace

TEST_CASE("every family maps (N, Cin, H, W) to logits (N, K, H, W), with unique names and seeded weights") {
  Generator g(3);
  for (const char* family : families) {
    CAPTURE(family);
    for (auto [in, out] : {std::pair<int64_t, int64_t>{1, 1}, {3, 4}}) {
      auto net = make_network(small(family, in, out), 7);
      const Tensor x = ops::rand({2, in, 24, 32}, g);
      for (bool training : {true, false}) {
        NoGradScope no_grad;
        const Tensor y = net->forward(x, training);
        CHECK(y.shape() == Shape{2, out, 24, 32});
      }
      std::set<std::string> names;
      for (const auto& p : net->parameters()) names.insert(p.name);
      for (const auto& b : net->buffers()) names.insert(b.name);
      CHECK(names.size() == net->parameters().size() + net->buffers().size());
      CHECK(net->parameter_count() > 0);
    }
    auto a = make_network(small(family), 11), b = make_network(small(family), 11), c = make_network(small(family), 12);
    CHECK(a->parameters()[0].tensor.to_vector() == b->parameters()[0].tensor.to_vector());
    CHECK(a->parameters()[0].tensor.to_vector() != c->parameters()[0].tensor.to_vector());
  }
  CHECK(make_network(small("unet"), 1)->size_multiple() == 4);
  CHECK(make_network(small("densenet"), 1)->size_multiple() == 4);
}

TEST_CASE("parameter counts follow the architecture: a ResNet block adds two 3x3 convolutions and two batch norms") {
  NetworkConfig c = small("resnet");
  c.filters = 8;
  c.blocks = 1;
  const int64_t one = make_network(c, 1)->parameter_count();
  c.blocks = 3;
  const int64_t three = make_network(c, 1)->parameter_count();
  const int64_t width = 4 * 8;
  CHECK(three - one == 2 * (2 * width * width * 9 + 2 * 2 * width));
  // U-Net with 4 levels of 32 filters: the architecture of ../shared/bench-peers/bench_torch.py,
  // counted by hand (convolutions before batch norm carry no bias, as there).
  NetworkConfig u;
  u.filters = 32;
  u.depth = 4;
  CHECK(make_network(u, 1)->parameter_count() == 1'926'433);
}

TEST_CASE("bad network descriptions are refused with what is wrong") {
  NetworkConfig c = small("vgg");
  CHECK_THROWS_WITH_AS(c.validate("model.json"), doctest::Contains("unknown network family 'vgg'"), InputError);
  c = small("unet", 2);
  CHECK_THROWS_WITH_AS(c.validate("options"), doctest::Contains("1 (grey) or 3 (colour)"), InputError);
  c = small("unet");
  c.depth = 0;
  CHECK_THROWS_AS(c.validate("options"), InputError);
  const auto j = small("highway").to_json();
  CHECK(NetworkConfig::from_json(j, "x").to_json() == j);
  auto broken = j;
  broken.erase("filters");
  CHECK_THROWS_WITH_AS(NetworkConfig::from_json(broken, "m/model.json"), doctest::Contains("m/model.json"), InputError);
}

TEST_CASE("each family learns bright discs (least squares, Adam) to a Jaccard index above 0.8") {
  for (const char* family : families) {
    CAPTURE(family);
    NetworkConfig c = small(family);
    c.filters = 8;
    auto net = make_network(c, 5);
    Adam adam(net->parameters(), AdamParams{.lr = 3e-3, .beta1 = 0.5});
    const LossConfig loss;
    Generator data(9);
    for (int step = 0; step < 60; ++step) {
      auto [image, label] = testing::disc_batch(4, 32, data);
      const Tensor l = training_loss(loss, net->forward(image, true), label, Tensor());
      adam.zero_grad();
      l.backward();
      adam.step();
    }
    NoGradScope no_grad;
    auto [image, label] = testing::disc_batch(8, 32, data);
    const auto p = activation(loss, net->forward(image, false)).to_vector();
    const auto t = label.to_vector();
    double inter = 0, uni = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      const bool a = p[i] >= 0.5, b = t[i] >= 0.5;
      inter += a && b;
      uni += a || b;
    }
    CHECK(inter / uni > 0.8);
  }
}

TEST_CASE("losses: names, weights, ignored pixels") {
  LossConfig l;
  for (const char* k : {"square", "l1", "logistic", "sigmoid", "dice"}) {
    l.kind = k;
    CHECK_NOTHROW(l.validate(1));
  }
  l.kind = "softmax";
  CHECK_THROWS_AS(l.validate(1), UsageError);
  CHECK_NOTHROW(l.validate(3));
  l.kind = "hinge2";
  CHECK_THROWS_AS(l.validate(1), UsageError);
  l.kind = "square";
  l.class_weights = {1, 2, 3};
  CHECK_THROWS_WITH_AS(l.validate(1), doctest::Contains("background,foreground"), UsageError);

  // Square loss of sigmoid(0) = 0.5 against 1 is 0.25 per pixel; with foreground weight 3 and one
  // of two pixels ignored, only the counted pixel matters.
  const Tensor logits = Tensor::zeros({1, 1, 1, 2});
  const Tensor target = Tensor::from_vector(std::vector<float>{1, 0}, {1, 1, 1, 2});
  const Tensor mask = Tensor::from_vector(std::vector<uint8_t>{1, 0}, {1, 1, 1, 2});
  l.class_weights = {1, 3};
  CHECK(training_loss(l, logits, target, mask).item() == doctest::Approx(0.75));
  l.class_weights.clear();
  CHECK(training_loss(l, logits, target, Tensor()).item() == doctest::Approx(0.25));
  l.kind = "logistic";
  CHECK(training_loss(l, logits, target, Tensor()).item() == doctest::Approx(std::log(2.0)));
  // Softmax over 3 equal logits: cross-entropy log 3 whatever the class.
  l.kind = "softmax";
  const Tensor classes = Tensor::from_vector(std::vector<int32_t>{2, 0}, {1, 1, 1, 2});
  CHECK(training_loss(l, Tensor::zeros({1, 3, 1, 2}), classes, Tensor()).item() == doctest::Approx(std::log(3.0)));
}
