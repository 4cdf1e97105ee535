#include "nn/layers.h"

#include <cmath>

namespace uniem::nn {

Tensor Parameters::parameter(const std::string& name, Tensor t) {
  t.set_requires_grad();
  parameters.push_back({name, t});
  return t;
}

Tensor Parameters::buffer(const std::string& name, Tensor t) {
  buffers.push_back({name, t});
  return t;
}

Tensor Parameters::he_normal(const std::string& name, const Shape& shape, double fan_in) {
  return parameter(name, ops::randn(shape, generator, 0, std::sqrt(2.0 / fan_in)));
}

Conv2d::Conv2d(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride, bool with_bias)
    : params{.stride = stride, .padding = kernel / 2} {
  weight = p.he_normal(name + ".weight", {out, in, kernel, kernel}, static_cast<double>(in * kernel * kernel));
  if (with_bias) bias = p.parameter(name + ".bias", Tensor::zeros({out}));
}

ConvTranspose2d::ConvTranspose2d(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride) {
  // Output = (in - 1) * stride - 2 * pad + kernel + output_padding = in * stride.
  const int pad = (kernel - stride + 1) / 2;
  params = {.stride = stride, .padding = pad, .output_padding = stride - kernel + 2 * pad};
  weight = p.he_normal(name + ".weight", {in, out, kernel, kernel},
                       static_cast<double>(in * kernel * kernel) / static_cast<double>(stride * stride));
  bias = p.parameter(name + ".bias", Tensor::zeros({out}));
}

BatchNorm2d::BatchNorm2d(Parameters& p, const std::string& name, int64_t channels)
    : gamma(p.parameter(name + ".weight", Tensor::ones({channels}))),
      beta(p.parameter(name + ".bias", Tensor::zeros({channels}))),
      running_mean(p.buffer(name + ".running_mean", Tensor::zeros({channels}))),
      running_var(p.buffer(name + ".running_var", Tensor::ones({channels}))) {}

ConvBnRelu::ConvBnRelu(Parameters& p, const std::string& name, int64_t in, int64_t out, int kernel, int stride)
    : conv(p, name + ".conv", in, out, kernel, stride, false), norm(p, name + ".norm", out) {}

}  // namespace uniem::nn
