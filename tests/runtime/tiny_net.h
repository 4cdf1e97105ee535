// A small segmentation network for the runtime tests (conv-BN-ReLU-pool-conv-upsample-concat-conv)
// and a synthetic task: bright discs on a noisy background, label = inside a disc.
#pragma once

#include <cmath>

#include "core/ops/ops.h"

namespace uniem::testing {

struct TinyNet {
  Tensor w1, b1;          // (8, 1, 3, 3), (8)
  Tensor gamma, beta;     // (8)
  Tensor running_mean, running_var;  // (8)
  Tensor w2, b2;          // (8, 8, 3, 3), (8)
  Tensor w3, b3;          // (8, 16, 3, 3), (8)
  Tensor w4, b4;          // (1, 8, 1, 1), (1)

  explicit TinyNet(uint64_t seed, int width = 8) {
    Generator g(seed);
    auto he = [&](Shape s) {  // He et al. 2015 normal initialisation, fan-in = Cin * k * k
      const double fan_in = static_cast<double>(s[1] * s[2] * s[3]);
      return ops::randn(s, g, 0, std::sqrt(2.0 / fan_in)).set_requires_grad();
    };
    const int64_t c = width;
    w1 = he({c, 1, 3, 3});
    w2 = he({c, c, 3, 3});
    w3 = he({c, 2 * c, 3, 3});
    w4 = he({1, c, 1, 1});
    b1 = Tensor::zeros({c}).set_requires_grad();
    b2 = Tensor::zeros({c}).set_requires_grad();
    b3 = Tensor::zeros({c}).set_requires_grad();
    b4 = Tensor::zeros({1}).set_requires_grad();
    gamma = Tensor::ones({c}).set_requires_grad();
    beta = Tensor::zeros({c}).set_requires_grad();
    running_mean = Tensor::zeros({c});
    running_var = Tensor::ones({c});
  }

  NamedTensors parameters() const {
    return {{"conv1.weight", w1}, {"conv1.bias", b1}, {"bn1.weight", gamma}, {"bn1.bias", beta},
            {"conv2.weight", w2}, {"conv2.bias", b2}, {"conv3.weight", w3}, {"conv3.bias", b3},
            {"head.weight", w4}, {"head.bias", b4}};
  }
  NamedTensors buffers() const { return {{"bn1.running_mean", running_mean}, {"bn1.running_var", running_var}}; }

  // x (N, 1, H, W), H and W even -> logits (N, 1, H, W)
  Tensor forward(const Tensor& x, bool training) {
    using namespace ops;
    const Tensor f1 = relu(batch_norm(conv2d(x, w1, b1, {.padding = 1}), gamma, beta, running_mean, running_var, training));
    const Tensor f2 = relu(conv2d(max_pool2d(f1), w2, b2, {.padding = 1}));
    const Tensor up = upsample2d(f2, x.size(2), x.size(3));
    const Tensor f3 = relu(conv2d(concat({up, f1}, 1), w3, b3, {.padding = 1}));
    return conv2d(f3, w4, b4);
  }
};

// A batch of n images (n, 1, size, size) and their labels (0/1 floats).
inline std::pair<Tensor, Tensor> disc_batch(int64_t n, int64_t size, Generator& g) {
  Tensor image = ops::randn(Shape{n, 1, size, size}, g, 0, 0.35);
  Tensor label = Tensor::zeros(Shape{n, 1, size, size});
  const Tensor centres = ops::rand(Shape{n, 3, 3}, g, 0, 1);
  const float* c = centres.data<float>();
  float* im = image.data<float>();
  float* lb = label.data<float>();
  for (int64_t s = 0; s < n; ++s)
    for (int64_t k = 0; k < 3; ++k) {
      const double cy = c[(s * 3 + k) * 3] * static_cast<double>(size), cx = c[(s * 3 + k) * 3 + 1] * static_cast<double>(size);
      const double r = 2.5 + 4.0 * c[(s * 3 + k) * 3 + 2];
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x)
          if ((static_cast<double>(y) - cy) * (static_cast<double>(y) - cy) +
                  (static_cast<double>(x) - cx) * (static_cast<double>(x) - cx) <= r * r) {
            const int64_t i = (s * size + y) * size + x;
            if (lb[i] == 0) im[i] += 1.0f;
            lb[i] = 1;
          }
    }
  return {image, label};
}

}  // namespace uniem::testing
