// The layers the 2D networks are built from, on the runtime's ops (core/ops/ops.h).
//
// A layer owns its tensors and registers them, under "<prefix>.<name>", with the Parameters of
// the network being built; the network's parameters() and buffers() are those lists, in
// construction order, which is also the order of the checkpoint.
//
// Initialisation (documented once, used by every family): convolution weights are He-normal,
// N(0, sqrt(2 / fan_in)) with fan_in = Cin * kH * kW (He et al. 2015, for ReLU networks); biases
// are zero; batch-norm scale 1, shift 0, running mean 0 and variance 1. A transposed convolution
// counts its fan-in as Cin * kH * kW / stride^2 (the inputs that reach one output pixel).
#pragma once

#include <string>

#include "core/generator.h"
#include "core/ops/ops.h"

namespace uniem::nn {

struct Parameters {
  NamedTensors parameters;  // learned
  NamedTensors buffers;     // batch-norm running statistics
  Generator generator;      // draws the initial weights
  explicit Parameters(uint64_t seed) : generator(seed) {}
  Tensor parameter(const std::string& name, Tensor t);
  Tensor buffer(const std::string& name, Tensor t);
  Tensor he_normal(const std::string& name, const Shape& shape, double fan_in);
};

struct Conv2d {
  Tensor weight;  // (Cout, Cin, k, k)
  Tensor bias;    // (Cout), undefined when a batch norm follows
  ConvParams params;
  Conv2d() = default;
  // Padding k / 2 keeps the size at stride 1.
  Conv2d(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride = 1, bool bias = true);
  Tensor operator()(const Tensor& x) const { return ops::conv2d(x, weight, bias, params); }
};

// Upsampling by `stride` (kernel 2, stride 2 in the U-Net; kernel 3, stride 2, output padding 1
// in the encoder-decoder families): output size = input size * stride.
struct ConvTranspose2d {
  Tensor weight;  // (Cin, Cout, k, k)
  Tensor bias;    // (Cout)
  ConvParams params;
  ConvTranspose2d() = default;
  ConvTranspose2d(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride);
  Tensor operator()(const Tensor& x) const { return ops::conv_transpose2d(x, weight, bias, params); }
};

struct BatchNorm2d {
  Tensor gamma, beta;                 // (C), learned
  Tensor running_mean, running_var;   // (C), updated while training, used for inference
  BatchNorm2d() = default;
  BatchNorm2d(Parameters& p, const std::string& name, int64_t channels);
  Tensor operator()(const Tensor& x, bool training) {
    return ops::batch_norm(x, gamma, beta, running_mean, running_var, training);
  }
};

// Convolution (no bias), batch norm, ReLU: the unit most families repeat.
struct ConvBnRelu {
  Conv2d conv;
  BatchNorm2d norm;
  ConvBnRelu() = default;
  ConvBnRelu(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride = 1);
  Tensor operator()(const Tensor& x, bool training) { return ops::relu(norm(conv(x), training)); }
};

}  // namespace uniem::nn
