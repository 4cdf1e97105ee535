// The four 2D segmentation families of UNI-EM, fully convolutional: an input (N, Cin, H, W) gives
// logits (N, K, H, W) of the same size, for H and W multiples of size_multiple().
//
//   unet      Ronneberger et al. 2015. `depth` levels; each level two (3x3 conv, batch norm, ReLU)
//             with `filters` * 2^level channels; 2x2 max pooling down, 2x2 stride-2 transposed
//             convolution up, the skip concatenated; a 1x1 head. Multiple: 2^(depth - 1).
//   resnet    The encoder - N blocks - decoder generator UNI-EM took from pix2pix (Johnson et al.
//             2016): 7x7 conv to F channels, two stride-2 3x3 convs to 2F and 4F, `blocks` residual
//             blocks x + BN(conv(ReLU(BN(conv(x))))) at 4F (He et al. 2016), two stride-2 transposed
//             convs back to F, a 7x7 head. Multiple: 4.
//   highway   The same frame with `blocks` highway units (Srivastava et al. 2015): y = T H(x) +
//             (1 - T) x, H the residual block's two convolutions, T = sigmoid(3x3 conv(x)) with its
//             bias starting at -1 so units begin close to the identity. Multiple: 4.
//   densenet  The same frame with `blocks` dense blocks (Huang et al. 2017) of `layers` layers,
//             each BN-ReLU-3x3 conv adding `growth` channels that every later layer sees, and a
//             BN-ReLU-1x1 transition back to 4F after each block. Multiple: 4.
//
// Every convolution followed by batch norm has no bias. Initialisation: nn/layers.h.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"

namespace uniem::nn {

struct NetworkConfig {
  std::string family = "unet";  // unet, resnet, highway, densenet
  int64_t in_channels = 1;      // 1 (grey) or 3 (colour)
  int64_t out_channels = 1;     // K
  int64_t filters = 32;         // base filters F (UNI-EM's ngf, 64 there)
  int64_t depth = 4;            // unet: levels
  int64_t blocks = 9;           // resnet: residual blocks; highway: units; densenet: dense blocks
  int64_t layers = 4;           // densenet: layers per dense block
  int64_t growth = 16;          // densenet: channels each layer adds

  nlohmann::json to_json() const;
  // Throws InputError naming `source` (a file or "options") for unknown families or bad sizes.
  static NetworkConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate(const std::string& source) const;
  std::string describe() const;  // "ResNet, 16 blocks, 32 filters, 1 -> 1 channels"
};

class Network {
 public:
  virtual ~Network() = default;
  // x (N, Cin, H, W) float32 -> logits (N, K, H, W). training: batch statistics and their running
  // update; otherwise the running statistics.
  virtual Tensor forward(const Tensor& x, bool training) = 0;
  const NetworkConfig& config() const { return config_; }
  const NamedTensors& parameters() const { return parameters_; }
  const NamedTensors& buffers() const { return buffers_; }
  int64_t parameter_count() const;
  int64_t size_multiple() const;
  // Where the parameters live; to() moves parameters and buffers (a trained model loads anywhere).
  Device device() const { return parameters_.front().tensor.device(); }
  void to(Device device) {
    move_to(parameters_, device);
    move_to(buffers_, device);
  }

 protected:
  explicit Network(NetworkConfig config) : config_(std::move(config)) {}
  NetworkConfig config_;
  NamedTensors parameters_, buffers_;
};

// A freshly initialised network; the same config and seed give the same weights.
std::unique_ptr<Network> make_network(const NetworkConfig& config, uint64_t seed);

// The families, one file each (nn/unet.cpp, nn/encoder_decoder.cpp).
std::unique_ptr<Network> make_unet(const NetworkConfig& config, uint64_t seed);
std::unique_ptr<Network> make_encoder_decoder(const NetworkConfig& config, uint64_t seed);

}  // namespace uniem::nn
