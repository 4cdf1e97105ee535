// Every runtime op and loss on the GPU against the CPU on the same random inputs (odd shapes, batch
// 1 and 3), forward values and the gradients of every input, in fp32 (FMA math: tolerance 1e-4 of
// the largest value) and, for the convolutions, in TF32 (tolerance 1e-2) and bf16 (1.5e-2). Also:
// the caching allocator, reproducibility of a training step, random draws equal to the CPU's,
// optimizers, and the errors a user can cause. Skipped without a GPU (see test_device.cpp's main).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "cuda/cuda_backend.h"

using namespace uniem;
using namespace uniem::ops;
using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

namespace {

const Device gpu = Device::cuda(0);

Tensor random_cpu(const Shape& shape, uint64_t seed, double scale = 1.0, double min_abs = 0.0) {
  Generator g(seed);
  Tensor t = randn(shape, g, 0, scale);
  if (min_abs > 0) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (std::abs(p[i]) < min_abs) p[i] = p[i] < 0 ? -static_cast<float>(min_abs) : static_cast<float>(min_abs);
  }
  return t;
}

// Largest |a - b| over the largest |a| (at least 1).
double relative_error(const Tensor& a, const Tensor& b) {
  const auto va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  double worst = 0, scale = 1;
  for (size_t i = 0; i < va.size(); ++i) {
    worst = std::max(worst, std::abs(va[i] - vb[i]));
    scale = std::max(scale, std::abs(va[i]));
  }
  return worst / scale;
}

// Runs f on the CPU inputs and on GPU copies, compares the outputs and, for inputs that require
// gradients, the gradients of sum(y * r) for a fixed random r.
void compare(const std::string& what, const Fn& f, const Inputs& cpu_inputs, double tolerance = 1e-4) {
  INFO(what);
  Inputs cpu, dev;
  for (const Tensor& t : cpu_inputs) {
    Tensor c = t.detach().clone(), d = t.detach().to(gpu);
    if (t.requires_grad()) {
      c.set_requires_grad();
      d.set_requires_grad();
    }
    cpu.push_back(c);
    dev.push_back(d);
  }
  const Tensor y_cpu = f(cpu), y_dev = f(dev);
  REQUIRE(y_dev.device() == gpu);
  REQUIRE(y_cpu.shape() == y_dev.shape());
  CHECK(relative_error(y_cpu, y_dev) <= tolerance);
  bool any = false;
  for (const Tensor& t : cpu) any = any || t.requires_grad();
  if (!any || y_cpu.dtype() != ScalarType::f32) return;
  const Tensor r = random_cpu(y_cpu.shape(), 99);
  sum(mul(y_cpu, r)).backward();
  sum(mul(y_dev, r.to(gpu))).backward();
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!cpu[i].requires_grad()) continue;
    CAPTURE(i);
    REQUIRE(dev[i].grad().defined());
    CHECK(dev[i].grad().device() == gpu);
    CHECK(relative_error(cpu[i].grad(), dev[i].grad()) <= tolerance);
  }
}

Tensor leaf(Tensor t) { return t.set_requires_grad(); }

struct PrecisionScope {
  cuda::Precision saved;
  explicit PrecisionScope(cuda::Precision p) : saved(cuda::cuda_backend().precision()) {
    cuda::cuda_backend().set_precision(p);
  }
  ~PrecisionScope() { cuda::cuda_backend().set_precision(saved); }
};

}  // namespace

TEST_CASE("element-wise ops, broadcasting and reductions match the CPU") {
  const Shape s{3, 5, 7, 9};
  const Tensor x = leaf(random_cpu(s, 1, 1.0, 0.05));
  const Tensor positive = leaf(add(abs(random_cpu(s, 2)), 0.2).detach());
  const Tensor b = leaf(random_cpu(Shape{1, 5, 1, 1}, 3, 1.0, 0.5));
  const Tensor row = leaf(random_cpu(Shape{9}, 4, 1.0, 0.5));
  compare("relu", [](const Inputs& in) { return relu(in[0]); }, {x});
  compare("leaky_relu", [](const Inputs& in) { return leaky_relu(in[0], 0.2); }, {x});
  compare("elu", [](const Inputs& in) { return elu(in[0], 1.3); }, {x});
  compare("sigmoid", [](const Inputs& in) { return sigmoid(in[0]); }, {x});
  compare("tanh", [](const Inputs& in) { return tanh(in[0]); }, {x});
  compare("exp", [](const Inputs& in) { return exp(in[0]); }, {x});
  compare("abs, neg, square", [](const Inputs& in) { return neg(square(abs(in[0]))); }, {x});
  compare("log, sqrt, pow", [](const Inputs& in) { return add(log(in[0]), mul(sqrt(in[0]), pow(in[0], 2.5))); },
          {positive});
  compare("clamp", [](const Inputs& in) { return clamp(in[0], -0.5, 0.7); }, {x});
  compare("scalar ops", [](const Inputs& in) { return rsub(2.0, rdiv(3.0, add(mul(sub(div(in[0], 4.0), 1.5), 2.0), 10.0))); },
          {x});
  compare("add/sub with channel broadcast", [](const Inputs& in) { return sub(add(in[0], in[1]), in[1]); }, {x, b});
  compare("mul/div with row broadcast", [](const Inputs& in) { return div(mul(in[0], in[1]), in[1]); }, {x, row});
  compare("sum", [](const Inputs& in) { return sum(in[0]); }, {x});
  compare("mean", [](const Inputs& in) { return mean(in[0]); }, {x});
  compare("sum_to", [](const Inputs& in) { return sum_to(in[0], Shape{1, 5, 1, 9}); }, {x});
  compare("sum_per_channel", [](const Inputs& in) { return sum_per_channel(in[0]); }, {x});
  const Tensor big = leaf(random_cpu(Shape{1, 1, 1000, 1001}, 5));
  compare("sum of a million values", [](const Inputs& in) { return sum(in[0]); }, {big});
}

TEST_CASE("concatenation, slicing, padding and cropping match the CPU") {
  const Tensor a = leaf(random_cpu(Shape{3, 2, 7, 9}, 6));
  const Tensor b = leaf(random_cpu(Shape{3, 5, 7, 9}, 7));
  compare("concat", [](const Inputs& in) { return concat({in[0], in[1]}, 1); }, {a, b});
  compare("slice", [](const Inputs& in) { return slice(in[0], 1, 1, 3); }, {b});
  compare("pad", [](const Inputs& in) { return pad(in[0], {0, 0, 1, 2}, {0, 0, 3, 0}); }, {a});
  compare("centre_crop", [](const Inputs& in) { return centre_crop(in[0], {4, 6}); }, {b});
  const Tensor u8 = Tensor::from_vector(std::vector<uint8_t>{1, 2, 3, 4, 5, 6}, Shape{1, 1, 2, 3});
  CHECK(slice(u8.to(gpu), 3, 1, 2).to_vector() == std::vector<double>{2, 3, 5, 6});
}

TEST_CASE("2-D and 3-D convolutions and transposed convolutions match the CPU in fp32") {
  PrecisionScope fp32(cuda::Precision::fp32);
  const Tensor x = leaf(random_cpu(Shape{3, 5, 13, 11}, 10));
  const Tensor w = leaf(random_cpu(Shape{7, 5, 3, 3}, 11, 0.3));
  const Tensor bias = leaf(random_cpu(Shape{7}, 12));
  compare("conv2d 3x3 pad 1 with bias", [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {.padding = 1}); },
          {x, w, bias});
  compare("conv2d stride 2, dilation 2, no bias",
          [](const Inputs& in) { return conv2d(in[0], in[1], Tensor(), {.stride = 2, .dilation = 2}); }, {x, w});
  const Tensor x1 = leaf(random_cpu(Shape{1, 5, 9, 10}, 13));
  const Tensor w1 = leaf(random_cpu(Shape{4, 5, 1, 1}, 14));
  compare("conv2d 1x1, batch 1", [](const Inputs& in) { return conv2d(in[0], in[1], Tensor()); }, {x1, w1});
  const Tensor v = leaf(random_cpu(Shape{1, 3, 7, 9, 8}, 15));
  const Tensor w3 = leaf(random_cpu(Shape{4, 3, 3, 3, 3}, 16, 0.3));
  const Tensor b3 = leaf(random_cpu(Shape{4}, 17));
  compare("conv3d 3x3x3 pad 1", [](const Inputs& in) { return conv3d(in[0], in[1], in[2], {.padding = 1}); },
          {v, w3, b3});
  compare("conv3d anisotropic stride",
          [](const Inputs& in) { return conv3d(in[0], in[1], Tensor(), {.stride = Int3(1, 2, 2)}); }, {v, w3});
  const Tensor t = leaf(random_cpu(Shape{3, 4, 6, 5}, 18));
  const Tensor wt = leaf(random_cpu(Shape{4, 6, 2, 2}, 19, 0.5));
  const Tensor bt = leaf(random_cpu(Shape{6}, 20));
  compare("conv_transpose2d 2x2 stride 2",
          [](const Inputs& in) { return conv_transpose2d(in[0], in[1], in[2], {.stride = 2}); }, {t, wt, bt});
  const Tensor wt3 = leaf(random_cpu(Shape{4, 3, 3, 3}, 21, 0.5));
  compare("conv_transpose2d 3x3 stride 2 output padding 1",
          [](const Inputs& in) {
            return conv_transpose2d(in[0], in[1], Tensor(), {.stride = 2, .padding = 1, .output_padding = 1});
          },
          {t, wt3});
  const Tensor tv = leaf(random_cpu(Shape{3, 2, 3, 4, 5}, 22));
  const Tensor wv = leaf(random_cpu(Shape{2, 3, 2, 2, 2}, 23, 0.5));
  compare("conv_transpose3d 2x2x2 stride 2",
          [](const Inputs& in) { return conv_transpose3d(in[0], in[1], Tensor(), {.stride = 2}); }, {tv, wv});
}

TEST_CASE("TF32 convolutions stay within 1e-2 of the CPU's fp32") {
  PrecisionScope tf32(cuda::Precision::tf32);
  const Tensor x = leaf(random_cpu(Shape{3, 16, 33, 31}, 30));
  const Tensor w = leaf(random_cpu(Shape{32, 16, 3, 3}, 31, 0.1));
  compare("conv2d in tf32", [](const Inputs& in) { return conv2d(in[0], in[1], Tensor(), {.padding = 1}); }, {x, w},
          1e-2);
  const Tensor v = leaf(random_cpu(Shape{1, 8, 9, 10, 11}, 32));
  const Tensor w3 = leaf(random_cpu(Shape{8, 8, 3, 3, 3}, 33, 0.1));
  compare("conv3d in tf32", [](const Inputs& in) { return conv3d(in[0], in[1], Tensor(), {.padding = 1}); }, {v, w3},
          1e-2);
}

// Rounding the operands and results to bfloat16 and summing exactly (an emulation in PyTorch on the
// CPU, five random draws of these shapes) gives errors up to 5.4e-3 of the largest value.
TEST_CASE("bf16 convolutions (bfloat16 operands, fp32 sums) stay within 1.5e-2 of the CPU's fp32") {
  PrecisionScope bf16(cuda::Precision::bf16);
  const Tensor x = leaf(random_cpu(Shape{3, 16, 33, 31}, 34));
  const Tensor w = leaf(random_cpu(Shape{32, 16, 3, 3}, 35, 0.1));
  const Tensor b = leaf(random_cpu(Shape{32}, 36));
  compare("conv2d with bias in bf16", [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {.padding = 1}); },
          {x, w, b}, 1.5e-2);
  const Tensor v = leaf(random_cpu(Shape{1, 8, 9, 10, 11}, 37));
  const Tensor w3 = leaf(random_cpu(Shape{8, 8, 3, 3, 3}, 38, 0.1));
  compare("conv3d in bf16", [](const Inputs& in) { return conv3d(in[0], in[1], Tensor(), {.padding = 1}); }, {v, w3},
          1.5e-2);
  const Tensor t = leaf(random_cpu(Shape{3, 8, 6, 5}, 39));
  const Tensor wt = leaf(random_cpu(Shape{8, 4, 2, 2}, 40, 0.5));
  compare("conv_transpose2d in bf16", [](const Inputs& in) { return conv_transpose2d(in[0], in[1], Tensor(), {.stride = 2}); },
          {t, wt}, 1.5e-2);
  // Double-precision convolutions are never narrowed.
  const Tensor xd = random_cpu(Shape{1, 2, 5, 6}, 41).to(ScalarType::f64), wd = random_cpu(Shape{3, 2, 3, 3}, 42).to(ScalarType::f64);
  compare("conv2d in f64 under bf16", [](const Inputs& in) { return conv2d(in[0], in[1], Tensor(), {.padding = 1}); },
          {xd, wd}, 1e-10);
}

TEST_CASE("pooling and upsampling match the CPU") {
  const Tensor x = leaf(random_cpu(Shape{3, 4, 11, 9}, 40));
  compare("max_pool2d 2x2", [](const Inputs& in) { return max_pool2d(in[0]); }, {x});
  compare("max_pool2d 3x3 stride 2 pad 1 (overlapping)",
          [](const Inputs& in) { return max_pool2d(in[0], {.kernel = 3, .stride = 2, .padding = 1}); }, {x});
  compare("avg_pool2d 3x3 stride 2 pad 1",
          [](const Inputs& in) { return avg_pool2d(in[0], {.kernel = 3, .stride = 2, .padding = 1}); }, {x});
  const Tensor v = leaf(random_cpu(Shape{1, 3, 6, 7, 9}, 41));
  compare("max_pool3d 2x2x2", [](const Inputs& in) { return max_pool3d(in[0]); }, {v});
  compare("avg_pool3d 1x2x2", [](const Inputs& in) { return avg_pool3d(in[0], {.kernel = Int3(1, 2, 2)}); }, {v});
  const Tensor s = leaf(random_cpu(Shape{3, 2, 5, 7}, 42));
  compare("upsample nearest x2", [](const Inputs& in) { return upsample2d(in[0], 10, 14); }, {s});
  compare("upsample bilinear x2",
          [](const Inputs& in) { return upsample2d(in[0], 10, 14, UpsampleMode::bilinear); }, {s});
  compare("upsample bilinear to 13x9",
          [](const Inputs& in) { return upsample2d(in[0], 13, 9, UpsampleMode::bilinear); }, {s});
  compare("upsample nearest to 4x12", [](const Inputs& in) { return upsample2d(in[0], 4, 12); }, {s});
}

TEST_CASE("batch normalisation, softmax and dropout match the CPU") {
  for (const Shape& s : {Shape{3, 5, 7, 9}, Shape{1, 4, 5, 6, 7}}) {
    CAPTURE(s.str());
    const int64_t c = s[1];
    const Tensor x = leaf(add(mul(random_cpu(s, 50), 3.0), 2.0).detach());
    const Tensor gamma = leaf(random_cpu(Shape{c}, 51));
    const Tensor beta = leaf(random_cpu(Shape{c}, 52));
    Tensor rm_cpu = random_cpu(Shape{c}, 53), rv_cpu = add(abs(random_cpu(Shape{c}, 54)), 0.5).detach();
    Tensor rm_dev = rm_cpu.to(gpu), rv_dev = rv_cpu.to(gpu);
    compare("batch_norm training",
            [&](const Inputs& in) {
              const bool on_gpu = in[0].device() == gpu;
              return batch_norm(in[0], in[1], in[2], on_gpu ? rm_dev : rm_cpu, on_gpu ? rv_dev : rv_cpu, true);
            },
            {x, gamma, beta});
    CHECK(relative_error(rm_cpu, rm_dev) <= 1e-5);
    CHECK(relative_error(rv_cpu, rv_dev) <= 1e-5);
    compare("batch_norm evaluation",
            [&](const Inputs& in) {
              const bool on_gpu = in[0].device() == gpu;
              return batch_norm(in[0], in[1], in[2], on_gpu ? rm_dev : rm_cpu, on_gpu ? rv_dev : rv_cpu, false);
            },
            {x, gamma, beta});
  }
  const Tensor logits = leaf(random_cpu(Shape{3, 5, 7, 9}, 55, 3.0));
  compare("softmax", [](const Inputs& in) { return softmax(in[0]); }, {logits});
  compare("log_softmax", [](const Inputs& in) { return log_softmax(in[0]); }, {logits});
  const Tensor x = leaf(random_cpu(Shape{3, 5, 7, 9}, 56));
  compare("dropout draws the CPU's mask", [](const Inputs& in) {
    Generator g(77);
    return dropout(in[0], 0.3, true, g);
  }, {x});
}

TEST_CASE("every loss matches the CPU, with weights, masks, class weights and the ignore label") {
  const Shape s{3, 4, 7, 9};
  const Tensor x = leaf(random_cpu(s, 60, 2.0));
  Generator g(61);
  const Tensor target = rand(s, g);
  const Tensor weight = add(rand(Shape{3, 1, 7, 9}, g), 0.5);
  std::vector<uint8_t> m(3 * 7 * 9);
  for (size_t i = 0; i < m.size(); ++i) m[i] = i % 5 != 0;
  const Tensor mask = Tensor::from_vector(m, Shape{3, 1, 7, 9});
  auto with = [](const Inputs& in, const Tensor& w, const Tensor& mk) {
    LossOptions o;
    o.weight = w.defined() ? w.to(in[0].device()) : Tensor();
    o.mask = mk.defined() ? mk.to(in[0].device()) : Tensor();
    return o;
  };
  compare("mse", [&](const Inputs& in) { return mse_loss(in[0], in[1]); }, {x, target});
  compare("mse weighted and masked", [&](const Inputs& in) { return mse_loss(in[0], in[1], with(in, weight, mask)); },
          {x, target});
  compare("l1 weighted", [&](const Inputs& in) { return l1_loss(in[0], in[1], with(in, weight, Tensor())); }, {x, target});
  compare("sigmoid cross-entropy masked",
          [&](const Inputs& in) { return sigmoid_cross_entropy(in[0], in[1], with(in, Tensor(), mask)); }, {x, target});
  compare("dice", [&](const Inputs& in) { return dice_loss(sigmoid(in[0]), in[1], with(in, weight, Tensor())); },
          {x, target});
  std::vector<int32_t> labels(3 * 7 * 9);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i % 7 == 3 ? -1 : static_cast<int32_t>(i * 13 % 4);
  const Tensor lab = Tensor::from_vector(labels, Shape{3, 1, 7, 9});
  const Tensor class_weight = Tensor::from_vector(std::vector<float>{1.0f, 2.0f, 0.5f, 3.0f}, Shape{4});
  compare("softmax cross-entropy with ignore label, class weights, weight and mask",
          [&](const Inputs& in) {
            LossOptions o = with(in, weight, mask);
            o.class_weight = class_weight.to(in[0].device());
            o.ignore_label = -1;
            return softmax_cross_entropy(in[0], in[1], o);
          },
          {x, lab});
  labels[5] = 4;
  const Tensor bad = Tensor::from_vector(labels, Shape{3, 1, 7, 9}).to(gpu);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(x.detach().to(gpu), bad), doctest::Contains("class label 4 is outside 0..3"),
                       InputError);
}

TEST_CASE("optimizers update the same way on the GPU as on the CPU") {
  for (const std::string kind : {"sgd", "adam", "adamw"}) {
    CAPTURE(kind);
    Tensor p_cpu = leaf(random_cpu(Shape{7, 5, 3}, 70)), p_dev = leaf(p_cpu.detach().to(gpu));
    auto make = [&](const Tensor& p) -> std::unique_ptr<Optimizer> {
      const NamedTensors params{{"w", p}};
      if (kind == "sgd") return std::make_unique<Sgd>(params, SgdParams{0.1, 0.9, 1e-3, true});
      return std::make_unique<Adam>(params, AdamParams{1e-2, 0.9, 0.999, 1e-8, 1e-2, kind == "adamw"});
    };
    auto o_cpu = make(p_cpu), o_dev = make(p_dev);
    for (int step = 0; step < 3; ++step) {
      const Tensor target = random_cpu(Shape{7, 5, 3}, 71 + static_cast<uint64_t>(step));
      o_cpu->zero_grad();
      o_dev->zero_grad();
      mse_loss(p_cpu, target).backward();
      mse_loss(p_dev, target.to(gpu)).backward();
      o_cpu->step();
      o_dev->step();
    }
    CHECK(relative_error(p_cpu, p_dev) <= 1e-5);
    CHECK(clip_grad_norm({{"w", p_dev}}, 1e-3) == doctest::Approx(clip_grad_norm({{"w", p_cpu}}, 1e-3)).epsilon(1e-4));
  }
}

TEST_CASE("random draws on the GPU equal the CPU's") {
  Generator a(5), b(5);
  const Tensor u_cpu = rand(Shape{1000}, a), u_dev = rand(Shape{1000}, b, 0, 1, ScalarType::f32, gpu);
  CHECK(relative_error(u_cpu, u_dev) == 0);
  const Tensor n_cpu = randn(Shape{1001}, a), n_dev = randn(Shape{1001}, b, 0, 1, ScalarType::f32, gpu);
  CHECK(relative_error(n_cpu, n_dev) <= 1e-6);
}

TEST_CASE("a training step on the GPU gives the same numbers every run") {
  auto step = [] {
    Tensor x = random_cpu(Shape{2, 8, 37, 29}, 80).to(gpu);
    Tensor w = leaf(random_cpu(Shape{16, 8, 3, 3}, 81, 0.2).to(gpu));
    Tensor gamma = leaf(Tensor::ones(Shape{16}, ScalarType::f32, gpu));
    Tensor beta = leaf(Tensor::zeros(Shape{16}, ScalarType::f32, gpu));
    Tensor rm = Tensor::zeros(Shape{16}, ScalarType::f32, gpu), rv = Tensor::ones(Shape{16}, ScalarType::f32, gpu);
    Tensor y = max_pool2d(relu(batch_norm(conv2d(x, w, Tensor(), {.padding = 1}), gamma, beta, rm, rv, true)));
    Tensor loss = mean(square(y));
    loss.backward();
    std::vector<double> out = w.grad().to_vector();
    out.push_back(loss.item());
    for (double v : gamma.grad().to_vector()) out.push_back(v);
    return out;
  };
  const auto first = step(), second = step();
  CHECK(first == second);
}

TEST_CASE("the caching allocator reuses freed blocks and releases them on request") {
  cuda::CudaBackend& be = cuda::cuda_backend();
  be.release_cached();
  const size_t before = be.live_bytes();
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty(Shape{1 << 20}, ScalarType::f32, gpu);
    first = t.raw_data();
    CHECK(be.live_bytes() >= before + (4u << 20));
  }
  CHECK(be.live_bytes() == before);
  CHECK(be.cached_bytes() >= (4u << 20));
  {
    Tensor t = Tensor::empty(Shape{1 << 20}, ScalarType::f32, gpu);
    CHECK(t.raw_data() == first);  // the same block, no new cudaMalloc
  }
  be.release_cached();
  CHECK(be.cached_bytes() == 0);
  CHECK(be.peak_bytes() >= (4u << 20));
}

TEST_CASE("a GPU that does not exist is refused with the devices that do") {
  CHECK_THROWS_WITH_AS(Tensor::zeros(Shape{3}, ScalarType::f32, Device::cuda(57)),
                       doctest::Contains("one GPU per process"), InputError);
  const Tensor a = Tensor::zeros(Shape{3}), b = Tensor::zeros(Shape{3}, ScalarType::f32, gpu);
  CHECK_THROWS_WITH(add(a, b), doctest::Contains("different devices"));
}
