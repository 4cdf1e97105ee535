// ResNet, HighwayNet and DenseNet: one encoder - body - decoder frame (the pix2pix generator
// UNI-EM used, Johnson et al. 2016) with a family-specific body at a quarter of the resolution,
// where 4F channels make the blocks cheap per pixel:
//
//   x (Cin) -7x7-> F -3x3/2-> 2F -3x3/2-> 4F -[body: blocks at H/4 x W/4]-> 4F
//           -3x3 up 2-> 2F -3x3 up 2-> F -7x7-> K logits
//
// Every conv but the head is followed by batch norm and ReLU. Zero padding throughout (the
// original's reflection padding matters little at these receptive fields; inference mirrors the
// image borders itself).
#include <cmath>
#include <vector>

#include "nn/layers.h"
#include "nn/network.h"

namespace uniem::nn {
namespace {

// x + BN(conv(ReLU(BN(conv(x))))), no activation after the sum.
struct ResidualBlock {
  Conv2d conv1, conv2;
  BatchNorm2d norm1, norm2;
  ResidualBlock(Parameters& p, const std::string& name, int64_t c)
      : conv1(p, name + ".conv1", c, c, 3, 1, false), conv2(p, name + ".conv2", c, c, 3, 1, false),
        norm1(p, name + ".norm1", c), norm2(p, name + ".norm2", c) {}
  Tensor transform(const Tensor& x, bool training) {  // H(x)
    return norm2(conv2(ops::relu(norm1(conv1(x), training))), training);
  }
  Tensor operator()(const Tensor& x, bool training) { return ops::add(x, transform(x, training)); }
};

// T H(x) + (1 - T) x = x + T (H(x) - x), T = sigmoid(conv(x)) per pixel and channel.
struct HighwayUnit {
  ResidualBlock transform;
  Conv2d gate;
  HighwayUnit(Parameters& p, const std::string& name, int64_t c) : transform(p, name, c), gate(p, name + ".gate", c, c, 3) {
    gate.bias.detach().copy_from(Tensor::full({c}, -1.0));  // carry more than transform at first
  }
  Tensor operator()(const Tensor& x, bool training) {
    const Tensor t = ops::sigmoid(gate(x));
    return ops::add(x, ops::mul(t, ops::sub(transform.transform(x, training), x)));
  }
};

// Layers BN-ReLU-conv, each seeing the concatenation of the block input and all earlier layers;
// then a BN-ReLU-1x1 transition back to the block's input width.
struct DenseBlock {
  std::vector<BatchNorm2d> norms;
  std::vector<Conv2d> convs;
  BatchNorm2d transition_norm;
  Conv2d transition;
  DenseBlock(Parameters& p, const std::string& name, int64_t c, int64_t layers, int64_t growth) {
    int64_t width = c;
    for (int64_t i = 0; i < layers; ++i) {
      const std::string layer = name + ".layer" + std::to_string(i);
      norms.emplace_back(p, layer + ".norm", width);
      convs.emplace_back(p, layer + ".conv", width, growth, 3, 1, false);
      width += growth;
    }
    transition_norm = BatchNorm2d(p, name + ".transition.norm", width);
    transition = Conv2d(p, name + ".transition.conv", width, c, 1, 1, false);
  }
  Tensor operator()(const Tensor& x, bool training) {
    std::vector<Tensor> features{x};
    for (size_t i = 0; i < convs.size(); ++i) {
      const Tensor in = features.size() == 1 ? x : ops::concat(features, 1);
      features.push_back(convs[i](ops::relu(norms[i](in, training))));
    }
    return transition(ops::relu(transition_norm(ops::concat(features, 1), training)));
  }
};

struct UpBnRelu {
  ConvTranspose2d up;
  BatchNorm2d norm;
  UpBnRelu(Parameters& p, const std::string& name, int64_t in, int64_t out)
      : up(p, name + ".conv", in, out, 3, 2), norm(p, name + ".norm", out) {}
  Tensor operator()(const Tensor& x, bool training) { return ops::relu(norm(up(x), training)); }
};

class EncoderDecoder final : public Network {
 public:
  // The layers register their tensors with `params` as they are made; the network keeps the lists.
  EncoderDecoder(const NetworkConfig& c, Parameters& params)
      : Network(c), stem_(params, "stem", c.in_channels, c.filters, 7),
        down1_(params, "down1", c.filters, 2 * c.filters, 3, 2), down2_(params, "down2", 2 * c.filters, 4 * c.filters, 3, 2) {
    const int64_t width = 4 * c.filters;
    for (int64_t i = 0; i < c.blocks; ++i) {
      const std::string name = "body" + std::to_string(i);
      if (c.family == "resnet") residual_.emplace_back(params, name, width);
      if (c.family == "highway") highway_.emplace_back(params, name, width);
      if (c.family == "densenet") dense_.emplace_back(params, name, width, c.layers, c.growth);
    }
    up_.emplace_back(params, "up1", width, 2 * c.filters);
    up_.emplace_back(params, "up2", 2 * c.filters, c.filters);
    head_ = Conv2d(params, "head", c.filters, c.out_channels, 7);
    parameters_ = std::move(params.parameters);
    buffers_ = std::move(params.buffers);
  }

  Tensor forward(const Tensor& input, bool training) override {
    Tensor x = down2_(down1_(stem_(input, training), training), training);
    for (auto& b : residual_) x = b(x, training);
    for (auto& b : highway_) x = b(x, training);
    for (auto& b : dense_) x = b(x, training);
    for (auto& u : up_) x = u(x, training);
    return head_(x);
  }

 private:
  ConvBnRelu stem_, down1_, down2_;
  std::vector<ResidualBlock> residual_;
  std::vector<HighwayUnit> highway_;
  std::vector<DenseBlock> dense_;
  std::vector<UpBnRelu> up_;
  Conv2d head_;
};

}  // namespace

std::unique_ptr<Network> make_encoder_decoder(const NetworkConfig& config, uint64_t seed) {
  Parameters params(seed);
  return std::make_unique<EncoderDecoder>(config, params);
}

}  // namespace uniem::nn
