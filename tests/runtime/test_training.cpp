// Training end to end on the CPU: a small network learns a segmentation task; optimizers,
// clipping and schedules; identical losses for identical seeds and thread counts.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/error.h"
#include "core/optim.h"
#include "core/threads.h"
#include "tests/runtime/tiny_net.h"

using namespace uniem;
using namespace uniem::testing;

namespace {

// Trains for `steps` steps from seed and returns the losses.
std::vector<double> train(TinyNet& net, Optimizer& opt, Generator& data, int steps, int64_t size = 32) {
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    auto [x, y] = disc_batch(4, size, data);
    opt.zero_grad();
    Tensor loss = ops::sigmoid_cross_entropy(net.forward(x, true), y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

double pixel_accuracy(TinyNet& net, Generator& data) {
  NoGradScope no_grad;
  auto [x, y] = disc_batch(8, 48, data);
  const auto logits = net.forward(x, false).to_vector();
  const auto labels = y.to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += (logits[i] > 0) == (labels[i] > 0.5);
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

}  // namespace

TEST_CASE("a small conv-BN-ReLU-pool-upsample-concat-conv network learns to segment discs") {
  TinyNet net(1);
  Adam opt(net.parameters(), {.lr = 0.01});
  Generator data(2);
  const auto losses = train(net, opt, data, 150);
  MESSAGE("loss " << losses.front() << " -> " << losses.back());
  CHECK(losses.back() < 0.5 * losses.front());
  Generator held_out(99);
  const double accuracy = pixel_accuracy(net, held_out);
  MESSAGE("held-out pixel accuracy " << accuracy);
  CHECK(accuracy > 0.95);
}

TEST_CASE("same seed and thread count give bit-identical losses over 100 training steps") {
  auto run = [](int threads) {
    set_thread_count(threads);
    TinyNet net(5);
    Adam opt(net.parameters(), {.lr = 0.005, .beta1 = 0.5});
    Generator data(6);
    auto losses = train(net, opt, data, 100, 16);
    set_thread_count(0);
    return losses;
  };
  const auto first = run(2), second = run(2);
  REQUIRE(first.size() == 100);
  for (size_t i = 0; i < first.size(); ++i) REQUIRE_MESSAGE(first[i] == second[i], "step " << i);
  // The chunking of every reduction depends on the sizes only, so even the thread count does not
  // change the numbers.
  const auto single = run(1);
  for (size_t i = 0; i < first.size(); ++i) REQUIRE_MESSAGE(first[i] == single[i], "step " << i);
}

TEST_CASE("optimizer updates match their formulas") {
  auto param = [] { return Tensor::from_vector(std::vector<double>{1.0, -2.0}, Shape{2}).set_requires_grad(); };
  auto set_grad = [](Tensor& w, std::vector<double> g) {
    w.zero_grad();
    ops::sum(ops::mul(w, Tensor::from_vector(g, Shape{2}))).backward();
  };
  {  // SGD with momentum 0.9 and weight decay 0.1, two steps with gradient (1, 1)
    Tensor w = param();
    Sgd opt({{"w", w}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    set_grad(w, {1, 1});
    opt.step();  // d = 1 + 0.1 w = (1.1, 0.8); m = d; w -= 0.1 m
    CHECK(w.to_vector()[0] == doctest::Approx(0.89));
    CHECK(w.to_vector()[1] == doctest::Approx(-2.08));
    set_grad(w, {1, 1});
    opt.step();  // d = (1.089, 0.792); m = 0.9 (1.1, 0.8) + d; w -= 0.1 m
    CHECK(w.to_vector()[0] == doctest::Approx(0.89 - 0.1 * (0.99 + 1.089)));
  }
  {  // Adam's first step moves every weight by lr (bias-corrected m / sqrt(v) = sign(g))
    Tensor w = param();
    Adam opt({{"w", w}}, {.lr = 0.01});
    set_grad(w, {3, -0.5});
    opt.step();
    CHECK(w.to_vector()[0] == doctest::Approx(0.99));
    CHECK(w.to_vector()[1] == doctest::Approx(-1.99));
  }
  {  // AdamW decays the weight itself: w (1 - lr wd) before the Adam step
    Tensor w = param();
    Adam opt({{"w", w}}, {.lr = 0.01, .weight_decay = 0.5, .decoupled = true});
    CHECK(std::string(opt.kind()) == "adamw");
    set_grad(w, {3, -0.5});
    opt.step();
    CHECK(w.to_vector()[0] == doctest::Approx(1.0 * (1 - 0.005) - 0.01));
  }
}

TEST_CASE("weight averaging: warm-up decay, swap in and out, named copies") {
  Tensor w = Tensor::from_vector(std::vector<double>{1.0, -2.0}, Shape{2}).set_requires_grad();
  WeightAverage average({{"w", w}}, 0.5);
  w.detach().copy_from(Tensor::from_vector(std::vector<double>{3.0, 0.0}, Shape{2}));
  average.update();  // decay min(0.5, 2/11) = 2/11: 1 + 9/11 (3 - 1), -2 + 9/11 (0 + 2)
  const double a0 = 1 + 9.0 / 11 * 2, a1 = -2 + 9.0 / 11 * 2;
  CHECK(average.held(".average")[0].name == "w.average");
  CHECK(average.held("")[0].tensor.to_vector()[0] == doctest::Approx(a0));
  average.swap();
  CHECK(average.swapped());
  CHECK(w.to_vector()[0] == doctest::Approx(a0));
  CHECK(w.to_vector()[1] == doctest::Approx(a1));
  CHECK(average.held("")[0].tensor.to_vector()[0] == 3.0);
  CHECK_THROWS_AS(average.update(), Error);
  average.swap();
  CHECK(w.to_vector() == std::vector<double>{3.0, 0.0});
  for (int i = 0; i < 200; ++i) average.update();  // the decay reaches 0.5: the average converges to w
  CHECK(average.held("")[0].tensor.to_vector()[1] == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(average.updates() == 201);
  CHECK_THROWS_AS(WeightAverage({{"w", w}}, 1.0), UsageError);
}

TEST_CASE("gradient clipping by value and by norm") {
  Tensor w = Tensor::from_vector(std::vector<double>{0, 0}, Shape{2}).set_requires_grad();
  ops::sum(ops::mul(w, Tensor::from_vector(std::vector<double>{3, -4}, Shape{2}))).backward();
  const NamedTensors params{{"w", w}};
  CHECK(clip_grad_norm(params, 1.0) == doctest::Approx(5.0));
  CHECK(w.grad().to_vector()[0] == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(w.grad().to_vector()[1] == doctest::Approx(-0.8).epsilon(1e-5));
  clip_grad_value(params, 0.7);
  CHECK(w.grad().to_vector()[0] == doctest::Approx(0.6).epsilon(1e-5));  // inside the limit: unchanged
  CHECK(w.grad().to_vector()[1] == -0.7);
}

TEST_CASE("learning-rate schedules") {
  LearningRateSchedule step{.kind = LearningRateSchedule::Kind::step, .base = 1.0, .step_size = 10, .gamma = 0.5};
  CHECK(step.at(0) == 1.0);
  CHECK(step.at(9) == 1.0);
  CHECK(step.at(10) == 0.5);
  CHECK(step.at(25) == 0.25);
  LearningRateSchedule cosine{.kind = LearningRateSchedule::Kind::cosine, .base = 1.0, .total_steps = 100, .minimum = 0.1};
  CHECK(cosine.at(0) == doctest::Approx(1.0));
  CHECK(cosine.at(50) == doctest::Approx(0.55));
  CHECK(cosine.at(100) == doctest::Approx(0.1));
  CHECK(cosine.at(500) == doctest::Approx(0.1));
  LearningRateSchedule warm{.base = 1.0, .warmup_steps = 4};
  CHECK(warm.at(0) == 0.25);
  CHECK(warm.at(3) == 1.0);
  CHECK(warm.at(10) == 1.0);
  // By name, as train2d and ffn train take them.
  CHECK(LearningRateSchedule::named("constant", 0.01, 90).at(80) == 0.01);
  CHECK(LearningRateSchedule::named("cosine", 0.01, 90).at(45) == doctest::Approx(0.005));
  CHECK(LearningRateSchedule::named("cosine", 0.01, 90).at(90) == doctest::Approx(0.0));
  CHECK(LearningRateSchedule::named("step", 0.01, 90).at(30) == doctest::Approx(0.001));
  CHECK_THROWS_WITH_AS(LearningRateSchedule::named("linear", 0.01, 90),
                       "--schedule takes constant, cosine or step, not 'linear'", UsageError);
}
