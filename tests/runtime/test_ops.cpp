// Every differentiable op and loss: gradient checks on odd shapes (N = 2, C = 3, 7x5 and 5x6x7)
// in double precision, away from kinks, plus small cases computed by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops/ops.h"
#include "tests/runtime/gradcheck.h"

using namespace uniem;
using namespace uniem::ops;
using uniem::testing::check_gradients;
using uniem::testing::project;
using uniem::testing::random_input;
using Inputs = std::vector<Tensor>;

namespace {
Tensor leaf(Tensor t) { return t.set_requires_grad(); }
const Shape image{2, 3, 7, 5};
const Shape volume{2, 3, 5, 6, 7};

std::vector<double> values(const Tensor& t) { return t.to_vector(); }
void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-5) {
  const auto v = values(t);
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK_MESSAGE(v[i] == doctest::Approx(expected[i]).epsilon(tol), "element " << i);
}
}  // namespace

TEST_CASE("element-wise ops with broadcasting have exact gradients") {
  const Tensor a = leaf(random_input(image, 1));
  const Tensor b = leaf(random_input(Shape{1, 3, 1, 1}, 2, 0.5));
  const Tensor c = leaf(random_input(Shape{5}, 3, 0.5));
  check_gradients("add", [](const Inputs& in) { return project(add(in[0], in[1])); }, {a, b});
  check_gradients("sub", [](const Inputs& in) { return project(sub(in[1], in[0])); }, {a, b});
  check_gradients("mul (row broadcast)", [](const Inputs& in) { return project(mul(in[0], in[1])); }, {a, c});
  check_gradients("div", [](const Inputs& in) { return project(div(in[0], in[1])); }, {a, b});
  check_gradients("scalar ops", [](const Inputs& in) {
    return project(rsub(2.0, rdiv(3.0, add(mul(sub(div(in[0], 4.0), 1.5), 2.0), 10.0))));
  }, {a});
}

TEST_CASE("activations have exact gradients away from their kinks") {
  const Tensor x = leaf(random_input(image, 5, 0.05));
  const Tensor positive = leaf(add(abs(random_input(image, 6)), 0.2).detach());
  check_gradients("relu", [](const Inputs& in) { return project(relu(in[0])); }, {x});
  check_gradients("leaky_relu", [](const Inputs& in) { return project(leaky_relu(in[0], 0.2)); }, {x});
  check_gradients("elu", [](const Inputs& in) { return project(elu(in[0], 1.3)); }, {x});
  check_gradients("sigmoid", [](const Inputs& in) { return project(sigmoid(in[0])); }, {x});
  check_gradients("tanh", [](const Inputs& in) { return project(tanh(in[0])); }, {x});
  check_gradients("exp", [](const Inputs& in) { return project(exp(in[0])); }, {x});
  check_gradients("abs", [](const Inputs& in) { return project(abs(in[0])); }, {x});
  check_gradients("neg, square", [](const Inputs& in) { return project(neg(square(in[0]))); }, {x});
  check_gradients("log", [](const Inputs& in) { return project(log(in[0])); }, {positive});
  check_gradients("sqrt", [](const Inputs& in) { return project(sqrt(in[0])); }, {positive});
  check_gradients("pow", [](const Inputs& in) { return project(pow(in[0], 2.5)); }, {positive});
  check_gradients("clamp", [](const Inputs& in) { return project(clamp(in[0], -0.5, 0.7)); },
                  {leaf(random_input(image, 7, 0.05).detach())});
}

TEST_CASE("softmax and log-softmax over channels") {
  const Tensor x = leaf(random_input(image, 8));
  check_gradients("softmax", [](const Inputs& in) { return project(softmax(in[0])); }, {x});
  check_gradients("log_softmax", [](const Inputs& in) { return project(log_softmax(in[0])); }, {x});
  NoGradScope no_grad;
  check_values(softmax(Tensor::from_vector(std::vector<double>{0, std::log(3.0)}, Shape{1, 2, 1})), {0.25, 0.75});
  check_values(log_softmax(Tensor::from_vector(std::vector<double>{0, 0}, Shape{1, 2})), {-std::log(2.0), -std::log(2.0)});
}

TEST_CASE("reductions, concatenation, slicing, padding and cropping") {
  const Tensor x = leaf(random_input(image, 9));
  const Tensor y = leaf(random_input(Shape{2, 2, 7, 5}, 10));
  check_gradients("sum", [](const Inputs& in) { return mul(sum(in[0]), 0.5); }, {x});
  check_gradients("mean", [](const Inputs& in) { return mean(square(in[0])); }, {x});
  check_gradients("sum_per_channel", [](const Inputs& in) { return project(sum_per_channel(in[0])); }, {x});
  check_gradients("concat", [](const Inputs& in) { return project(concat({in[0], in[1]}, 1)); }, {x, y});
  check_gradients("slice", [](const Inputs& in) { return project(slice(in[0], 1, 1, 2)); }, {x});
  check_gradients("pad", [](const Inputs& in) { return project(pad(in[0], {0, 1, 2, 1}, {1, 0, 1, 3})); }, {x});
  check_gradients("centre_crop", [](const Inputs& in) { return project(centre_crop(in[0], {4, 2})); }, {x});
  check_gradients("reshape", [](const Inputs& in) { return project(in[0].reshape(Shape{6, -1})); }, {x});

  NoGradScope no_grad;
  const Tensor r = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{1, 1, 2, 3});
  check_values(centre_crop(r, {1, 1}), {2});
  check_values(concat({r, r}, 3), {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  check_values(pad(r, {0, 0, 0, 1}, {0, 0, 1, 0}), {0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0});
  CHECK(sum(r).item() == 21);
  CHECK(mean(r).item() == 3.5);
}

TEST_CASE("2-D convolution: a hand-computed case and exact gradients") {
  {
    NoGradScope no_grad;
    const Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, Shape{1, 1, 3, 3});
    const Tensor w = Tensor::ones(Shape{1, 1, 2, 2}, ScalarType::f64);
    check_values(conv2d(x, w, Tensor()), {12, 16, 24, 28});
    // Padding 1: each output sums the in-image part of its 2x2 window; bias 0.5.
    const Tensor b = Tensor::full(Shape{1}, 0.5, ScalarType::f64);
    check_values(conv2d(x, w, b, {.padding = 1}),
                 {1.5, 3.5, 5.5, 3.5, 5.5, 12.5, 16.5, 9.5, 11.5, 24.5, 28.5, 15.5, 7.5, 15.5, 17.5, 9.5});
    // Stride 2 of a 3x3 kernel of ones over 5x5 values 0..24: sums of the four 3x3 corners.
    std::vector<double> v(25);
    for (int i = 0; i < 25; ++i) v[static_cast<size_t>(i)] = i;
    check_values(conv2d(Tensor::from_vector(v, Shape{1, 1, 5, 5}), Tensor::ones(Shape{1, 1, 3, 3}, ScalarType::f64),
                        Tensor(), {.stride = 2}),
                 {54, 72, 144, 162});
    // The transposed convolution of a single 1 is the kernel itself.
    const Tensor k = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, Shape{1, 1, 2, 2});
    check_values(conv_transpose2d(Tensor::ones(Shape{1, 1, 1, 1}, ScalarType::f64), k, Tensor()), {1, 2, 3, 4});
  }
  const Tensor x = leaf(random_input(image, 11));
  const Tensor w = leaf(random_input(Shape{4, 3, 3, 3}, 12, 0, 0.3));
  const Tensor b = leaf(random_input(Shape{4}, 13));
  check_gradients("conv2d 3x3 pad 1", [](const Inputs& in) { return project(conv2d(in[0], in[1], in[2], {.padding = 1})); },
                  {x, w, b});
  check_gradients("conv2d stride 2, dilation 2, anisotropic padding",
                  [](const Inputs& in) {
                    return project(conv2d(in[0], in[1], in[2], {.stride = 2, .padding = {0, 2, 1}, .dilation = 2}));
                  },
                  {x, w, b});
  const Tensor w1 = leaf(random_input(Shape{2, 3, 1, 1}, 14));
  check_gradients("conv2d 1x1", [](const Inputs& in) { return project(conv2d(in[0], in[1], Tensor())); }, {x, w1});
  const Tensor wt = leaf(random_input(Shape{3, 2, 2, 2}, 15, 0, 0.3));
  const Tensor bt = leaf(random_input(Shape{2}, 16));
  check_gradients("conv_transpose2d stride 2",
                  [](const Inputs& in) { return project(conv_transpose2d(in[0], in[1], in[2], {.stride = 2})); },
                  {x, wt, bt});
  const Tensor wt3 = leaf(random_input(Shape{3, 2, 3, 3}, 17, 0, 0.3));
  check_gradients("conv_transpose2d 3x3 stride 2 pad 1 output_padding 1",
                  [](const Inputs& in) {
                    return project(conv_transpose2d(in[0], in[1], Tensor(),
                                                    {.stride = 2, .padding = 1, .output_padding = 1}));
                  },
                  {x, wt3});
}

TEST_CASE("3-D convolution and transposed convolution have exact gradients") {
  const Tensor x = leaf(random_input(volume, 21));
  const Tensor w = leaf(random_input(Shape{2, 3, 3, 3, 3}, 22, 0, 0.3));
  const Tensor b = leaf(random_input(Shape{2}, 23));
  check_gradients("conv3d 3x3x3 pad 1", [](const Inputs& in) { return project(conv3d(in[0], in[1], in[2], {.padding = 1})); },
                  {x, w, b});
  check_gradients("conv3d anisotropic stride",
                  [](const Inputs& in) { return project(conv3d(in[0], in[1], in[2], {.stride = {1, 2, 2}})); },
                  {x, w, b});
  const Tensor wt = leaf(random_input(Shape{3, 2, 2, 2, 2}, 24, 0, 0.3));
  check_gradients("conv_transpose3d stride 2",
                  [](const Inputs& in) { return project(conv_transpose3d(in[0], in[1], Tensor(), {.stride = 2})); },
                  {x, wt});
  // Transposed and forward convolution are adjoint: <conv(x), y> == <x, conv_t(y)>.
  NoGradScope no_grad;
  const Tensor y = random_input(Shape{2, 2, 3, 3, 4}, 25);
  const ConvParams p{.stride = 2, .padding = 1};
  const double lhs = sum(mul(conv3d(x, w, Tensor(), p), y)).item();
  const double rhs = sum(mul(x, conv_transpose3d(y, w, Tensor(), {.stride = 2, .padding = 1, .output_padding = {0, 1, 0}}))).item();
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-10));
}

// Float convolutions of stride 1 run the CPU backend's direct kernel (core/cpu/conv_direct.h),
// or its Winograd kernel (conv_winograd.h) for 3x3(x3) kernels with 8 or more channels; double
// ones run im2col + GEMM, checked above. The two must agree, values and gradients, for
// output channels that fill no, one or several register blocks, widths shorter and longer than
// a block, input channels in one or several chunks, padding, dilation and batches.
TEST_CASE("float convolutions agree with the double-precision reference") {
  struct Case {
    Shape x, w;
    ConvParams p;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{2, 3, 7, 5}, {1, 3, 3, 3}, {.padding = 1}, true},
      {{1, 5, 9, 40}, {9, 5, 3, 3}, {.padding = 1}, true},
      {{2, 2, 11, 70}, {17, 2, 3, 5}, {.padding = {0, 1, 2}}, false},
      {{1, 4, 13, 13}, {8, 4, 3, 3}, {.padding = 2, .dilation = 2}, true},
      {{1, 3, 6, 6}, {4, 3, 3, 3}, {}, true},
      {{1, 2, 5, 9, 7}, {32, 2, 3, 3, 3}, {.padding = 1}, true},
      {{2, 6, 4, 7, 33}, {3, 6, 3, 3, 3}, {.padding = {1, 0, 1}}, true},
      {{1, 3, 7, 8, 9}, {5, 3, 2, 3, 1}, {.padding = {1, 1, 0}, .dilation = {2, 1, 1}}, false},
      {{1, 33, 30, 50}, {16, 33, 3, 3}, {.padding = 1}, true},  // input channels in several chunks
      {{4, 1, 32, 32}, {8, 1, 3, 3}, {.padding = 1}, true},
      {{4, 8, 16, 16}, {8, 8, 3, 3}, {.padding = 1}, true},
      {{4, 16, 32, 32}, {8, 16, 3, 3}, {.padding = 1}, true},
      {{2, 20, 5, 9, 21}, {10, 20, 3, 3, 3}, {.padding = 1}, true},
      // Winograd (conv_winograd.h): odd and even sizes, tiles cut by the output's edge, every
      // padding, output channels in partial register blocks, blocks of tiles across rows.
      {{2, 12, 9, 13}, {17, 12, 3, 3}, {.padding = {0, 2, 0}}, true},
      {{1, 8, 40, 70}, {8, 8, 3, 3}, {.padding = 1}, false},
      {{2, 8, 6, 5, 9}, {9, 8, 3, 3, 3}, {.padding = {2, 0, 1}}, true},
      {{1, 9, 3, 4, 4}, {8, 9, 3, 3, 3}, {}, true},
      {{1, 8, 1, 1, 1}, {12, 8, 3, 3, 3}, {.padding = 1}, true},
      {{1, 16, 11, 17, 17}, {16, 16, 3, 3, 3}, {.padding = 1}, true},
      // the filter gradient's input channels in more than one run of register vectors
      {{2, 50, 6, 7}, {9, 50, 3, 3}, {.padding = 1}, true},
      {{1, 40, 4, 5, 6}, {11, 40, 3, 3, 3}, {.padding = {1, 0, 2}}, false},
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    INFO("x " << c.x.str() << ", w " << c.w.str());
    const bool volumetric = c.x.rank() == 5;
    const Tensor x64 = random_input(c.x, ++seed), w64 = random_input(c.w, ++seed, 0, 0.3);
    const Tensor b64 = c.bias ? random_input(Shape{c.w[0]}, ++seed) : Tensor();
    auto run = [&](ScalarType dtype) {
      Tensor x = leaf(x64.to(dtype)), w = leaf(w64.to(dtype));
      Tensor b = c.bias ? leaf(b64.to(dtype)) : Tensor();
      const Tensor y = volumetric ? conv3d(x, w, b, c.p) : conv2d(x, w, b, c.p);
      project(y).backward();
      return std::vector<Tensor>{y, x.grad(), w.grad(), c.bias ? b.grad() : Tensor()};
    };
    const auto single = run(ScalarType::f32), reference = run(ScalarType::f64);
    const char* names[] = {"output", "input gradient", "weight gradient", "bias gradient"};
    for (size_t k = 0; k < single.size(); ++k) {
      if (!reference[k].defined()) continue;
      INFO(names[k]);
      const auto got = single[k].to_vector(), want = reference[k].to_vector();
      REQUIRE(got.size() == want.size());
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / (1 + std::abs(want[i])));
      CHECK(worst < 1e-4);
    }
  }
}

TEST_CASE("pooling and upsampling") {
  {
    NoGradScope no_grad;
    std::vector<double> v(16);
    for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = i;
    const Tensor x = Tensor::from_vector(v, Shape{1, 1, 4, 4});
    check_values(max_pool2d(x), {5, 7, 13, 15});
    check_values(avg_pool2d(x), {2.5, 4.5, 10.5, 12.5});
    check_values(max_pool2d(x, {.kernel = 3, .stride = 1}), {10, 11, 14, 15});
    const Tensor small = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, Shape{1, 1, 2, 2});
    check_values(upsample2d(small, 4, 4), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
    check_values(upsample2d(Tensor::from_vector(std::vector<double>{0, 4}, Shape{1, 1, 1, 2}), 1, 4, UpsampleMode::bilinear),
                 {0, 1, 3, 4});
  }
  const Tensor x = leaf(random_input(image, 31));
  const Tensor v = leaf(random_input(volume, 32));
  check_gradients("max_pool2d", [](const Inputs& in) { return project(max_pool2d(in[0])); }, {x});
  check_gradients("max_pool2d 3x3 stride 2 pad 1",
                  [](const Inputs& in) { return project(max_pool2d(in[0], {.kernel = 3, .stride = 2, .padding = 1})); }, {x});
  check_gradients("avg_pool2d", [](const Inputs& in) { return project(avg_pool2d(in[0], {.kernel = 3, .stride = 2, .padding = 1})); }, {x});
  check_gradients("max_pool3d", [](const Inputs& in) { return project(max_pool3d(in[0])); }, {v});
  check_gradients("avg_pool3d", [](const Inputs& in) { return project(avg_pool3d(in[0], {.kernel = {1, 2, 2}})); }, {v});
  check_gradients("upsample nearest", [](const Inputs& in) { return project(upsample2d(in[0], 14, 10)); }, {x});
  check_gradients("upsample bilinear", [](const Inputs& in) { return project(upsample2d(in[0], 11, 13, UpsampleMode::bilinear)); }, {x});
}

TEST_CASE("batch normalisation: statistics by hand, exact gradients in training and evaluation") {
  {
    NoGradScope no_grad;
    const Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, Shape{2, 1, 2});
    Tensor rm = Tensor::zeros(Shape{1}, ScalarType::f64), rv = Tensor::ones(Shape{1}, ScalarType::f64);
    const Tensor g = Tensor::ones(Shape{1}, ScalarType::f64), b = Tensor::zeros(Shape{1}, ScalarType::f64);
    const double s = 1 / std::sqrt(1.25 + 1e-5);
    check_values(batch_norm(x, g, b, rm, rv, true), {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s});
    CHECK(rm.item() == doctest::Approx(0.25));
    CHECK(rv.item() == doctest::Approx(0.9 + 0.1 * 5.0 / 3.0));  // unbiased variance 5/3
    check_values(batch_norm(x, g, b, rm, rv, false), {(1 - 0.25) / std::sqrt(rv.item() + 1e-5), (2 - 0.25) / std::sqrt(rv.item() + 1e-5),
                                                      (3 - 0.25) / std::sqrt(rv.item() + 1e-5), (4 - 0.25) / std::sqrt(rv.item() + 1e-5)});
  }
  for (const Shape& shape : {image, volume}) {
    const Tensor x = leaf(random_input(shape, 41));
    const Tensor gamma = leaf(random_input(Shape{3}, 42, 0.3));
    const Tensor beta = leaf(random_input(Shape{3}, 43));
    Tensor rm = Tensor::zeros(Shape{3}, ScalarType::f64), rv = Tensor::ones(Shape{3}, ScalarType::f64);
    check_gradients("batch_norm training " + shape.str(),
                    [&](const Inputs& in) { return project(batch_norm(in[0], in[1], in[2], rm, rv, true)); },
                    {x, gamma, beta}, 1e-6, 1e-5);
    check_gradients("batch_norm evaluation " + shape.str(),
                    [&](const Inputs& in) { return project(batch_norm(in[0], in[1], in[2], rm, rv, false)); },
                    {x, gamma, beta});
  }
}

TEST_CASE("dropout keeps the expectation and differentiates through its mask") {
  const Tensor x = leaf(random_input(image, 51));
  check_gradients("dropout", [](const Inputs& in) {
    Generator g(3);
    return project(dropout(in[0], 0.3, true, g));
  }, {x});
  NoGradScope no_grad;
  Generator g(1);
  const Tensor ones = Tensor::ones(Shape{100000});
  const double m = mean(dropout(ones, 0.25, true, g)).item();
  CHECK(m == doctest::Approx(1.0).epsilon(0.01));
  CHECK(dropout(ones, 0.25, false, g).same_storage(ones));
}

TEST_CASE("losses: values by hand") {
  NoGradScope no_grad;
  const auto vec = [](std::vector<double> v, Shape s) { return Tensor::from_vector(v, s); };
  CHECK(mse_loss(vec({1, 2}, Shape{1, 1, 2}), vec({0, 0}, Shape{1, 1, 2})).item() == doctest::Approx(2.5));
  CHECK(l1_loss(vec({1, -3}, Shape{1, 1, 2}), vec({0, 0}, Shape{1, 1, 2})).item() == doctest::Approx(2));
  CHECK(sigmoid_cross_entropy(vec({0, 0}, Shape{1, 1, 2}), vec({1, 0}, Shape{1, 1, 2})).item() ==
        doctest::Approx(std::log(2.0)));
  // Large logits stay finite.
  CHECK(sigmoid_cross_entropy(vec({-200}, Shape{1, 1, 1}), vec({1}, Shape{1, 1, 1})).item() == doctest::Approx(200));
  const Tensor logits = vec({0, std::log(3.0), 0, 0}, Shape{1, 2, 2});  // pixel 0: equal; pixel 1: 3:1
  const Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 0}, Shape{1, 1, 2});
  CHECK(softmax_cross_entropy(logits, labels).item() == doctest::Approx((std::log(2.0) + std::log(4.0 / 3.0)) / 2));
  LossOptions ignore_second;
  ignore_second.mask = Tensor::from_vector(std::vector<uint8_t>{1, 0}, Shape{1, 1, 2});
  CHECK(softmax_cross_entropy(logits, labels, ignore_second).item() == doctest::Approx(std::log(2.0)));
  LossOptions ignore_label;
  ignore_label.ignore_label = 0;
  CHECK(softmax_cross_entropy(logits, labels, ignore_label).item() == 0);  // nothing counts
  LossOptions class_weights;
  class_weights.class_weight = vec({2, 1}, Shape{2});
  CHECK(softmax_cross_entropy(logits, labels, class_weights).item() ==
        doctest::Approx(std::log(2.0) + std::log(4.0 / 3.0)));
  const Tensor p = vec({1, 1, 0, 0}, Shape{1, 1, 4});
  CHECK(dice_loss(p, p).item() == doctest::Approx(0));
  CHECK(dice_loss(p, vec({0, 0, 1, 1}, Shape{1, 1, 4}), {}, 0).item() == doctest::Approx(1));
  LossOptions weighted;
  weighted.weight = vec({3, 1}, Shape{1, 1, 2});
  CHECK(mse_loss(vec({1, 2}, Shape{1, 1, 2}), vec({0, 0}, Shape{1, 1, 2}), weighted).item() == doctest::Approx(3.5));
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, Tensor::from_vector(std::vector<int32_t>{0, 5}, Shape{1, 1, 2})),
                       doctest::Contains("class label 5 is outside 0..1"), InputError);
}

TEST_CASE("losses have exact gradients, with weights, masks and ignored labels") {
  const Tensor x = leaf(random_input(image, 61, 0.05));
  Generator g(62);
  const Tensor target = ops::rand(image, g, 0, 1, ScalarType::f64);
  const Tensor far_target = add(x, 0.5).detach();  // |x - t| away from 0 for L1
  LossOptions o;
  o.weight = ops::rand(Shape{2, 1, 7, 5}, g, 0.5, 2, ScalarType::f64);
  std::vector<uint8_t> m(70);
  for (size_t i = 0; i < m.size(); ++i) m[i] = i % 7 != 3;
  o.mask = Tensor::from_vector(m, Shape{2, 1, 7, 5});
  for (const LossOptions& opt : {LossOptions{}, o}) {
    const std::string tag = opt.weight.defined() ? " (weighted, masked)" : "";
    check_gradients("mse" + tag, [&](const Inputs& in) { return mse_loss(in[0], target, opt); }, {x});
    check_gradients("l1" + tag, [&](const Inputs& in) { return l1_loss(in[0], far_target, opt); }, {x});
    check_gradients("sigmoid cross-entropy" + tag, [&](const Inputs& in) { return sigmoid_cross_entropy(in[0], target, opt); }, {x});
    check_gradients("dice" + tag, [&](const Inputs& in) { return dice_loss(sigmoid(in[0]), target, opt); }, {x});
  }
  std::vector<int32_t> labels(70);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>((i * 7) % 4) - 1;  // -1 = ignored
  const Tensor l = Tensor::from_vector(labels, Shape{2, 1, 7, 5});
  LossOptions ce = o;
  ce.class_weight = Tensor::from_vector(std::vector<double>{0.5, 1, 2}, Shape{3});
  check_gradients("softmax cross-entropy", [&](const Inputs& in) { return softmax_cross_entropy(in[0], l, ce); }, {x});
}

TEST_CASE("bad shapes are refused with the shapes in the message") {
  const Tensor x = Tensor::zeros(Shape{1, 3, 8, 8});
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros(Shape{4, 2, 3, 3}), Tensor()), doctest::Contains("3 channels"));
  CHECK_THROWS_WITH(add(x, Tensor::zeros(Shape{2, 8})), doctest::Contains("do not broadcast"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros(Shape{4, 3, 9, 9}), Tensor()), doctest::Contains("smaller than the kernel"));
  CHECK_THROWS_WITH(concat({x, Tensor::zeros(Shape{1, 3, 8, 7})}), doctest::Contains("sizes differ"));
  CHECK_THROWS_WITH(mse_loss(x, Tensor::zeros(Shape{1, 3, 8, 7})), doctest::Contains("must match"));
}
