// U-Net (Ronneberger et al. 2015) with "same" convolutions, so the output has the input's size
// and no cropping of the skips is needed; batch norm after each convolution.
#include <vector>

#include "nn/layers.h"
#include "nn/network.h"

namespace uniem::nn {
namespace {

struct DoubleConv {
  ConvBnRelu first, second;
  DoubleConv(Parameters& p, const std::string& name, int64_t in, int64_t out)
      : first(p, name + ".0", in, out, 3), second(p, name + ".1", out, out, 3) {}
  Tensor operator()(const Tensor& x, bool training) { return second(first(x, training), training); }
};

class UNet final : public Network {
 public:
  UNet(const NetworkConfig& c, uint64_t seed) : Network(c) {
    Parameters p(seed);
    int64_t channels = c.in_channels;
    for (int64_t level = 0; level < c.depth; ++level) {
      const int64_t out = c.filters << level;
      down_.emplace_back(p, "down" + std::to_string(level), channels, out);
      channels = out;
    }
    for (int64_t level = c.depth - 2; level >= 0; --level) {
      const int64_t out = c.filters << level;
      upsample_.emplace_back(p, "upsample" + std::to_string(level), channels, out, 2, 2);
      up_.emplace_back(p, "up" + std::to_string(level), 2 * out, out);
      channels = out;
    }
    head_ = Conv2d(p, "head", channels, c.out_channels, 1);
    parameters_ = std::move(p.parameters);
    buffers_ = std::move(p.buffers);
  }

  Tensor forward(const Tensor& input, bool training) override {
    std::vector<Tensor> skips;
    Tensor x = input;
    for (size_t level = 0; level < down_.size(); ++level) {
      x = down_[level](x, training);
      if (level + 1 < down_.size()) {
        skips.push_back(x);
        x = ops::max_pool2d(x);
      }
    }
    for (size_t i = 0; i < up_.size(); ++i) {
      x = up_[i](ops::concat({upsample_[i](x), skips.back()}, 1), training);
      skips.pop_back();
    }
    return head_(x);
  }

 private:
  std::vector<DoubleConv> down_, up_;
  std::vector<ConvTranspose2d> upsample_;
  Conv2d head_;
};

}  // namespace

std::unique_ptr<Network> make_unet(const NetworkConfig& config, uint64_t seed) {
  return std::make_unique<UNet>(config, seed);
}

}  // namespace uniem::nn
