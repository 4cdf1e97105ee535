// The flood-filling network (Januszewski et al., Nat Methods 15:605, 2018), "convstack_3d".
//
// Input: the image and the current object-mask logits over the field of view, (N, 1, D, H, W)
// each, stacked as 2 channels (image first, as upstream). Two 3x3x3 convolutions with `filters`
// outputs (ReLU between), then depth - 1 residual modules (ReLU, conv + ReLU, conv, plus the
// module's input), a final ReLU and a 1x1x1 convolution to one channel, added to the input logits.
// No pooling and no normalisation; every convolution keeps the size (padding 1, TF's "SAME").
//
// Sizes are (z, y, x) here, as everywhere in uniem; upstream writes fov_size and deltas x, y, z.
// The presets are UNI-EM's: "isotropic" (depth 12, FOV 33x33x33, deltas 8,8,8: FIB-SEM) and
// "sparse-z" (depth 9, FOV z 17 x 33 x 33, deltas 4,8,8: serial-section EM).
//
// Initialisation as upstream (TensorFlow's conv3d default): Glorot-uniform weights,
// U(+-sqrt(6 / (fan_in + fan_out))) with fan = channels * 27, zero biases.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/layers.h"

namespace uniem::nn::ffn {

using Zyx = std::array<int64_t, 3>;

std::string zyx_string(const Zyx& v, const char* separator = ",");  // "33,33,33"

struct FfnConfig {
  int64_t depth = 12;
  int64_t filters = 32;
  Zyx fov{33, 33, 33};
  Zyx deltas{8, 8, 8};

  // "isotropic" or "sparse-z"; throws UsageError otherwise.
  static FfnConfig preset(const std::string& name);
  // Throws InputError (naming `where`) for sizes the model cannot take: depth < 1, even or
  // too-small field of view, deltas that leave the field of view.
  void check(const std::string& where) const;
  nlohmann::json to_json() const;
  static FfnConfig from_json(const nlohmann::json& j, const std::string& where);
  std::string describe() const;  // "FFN depth 12, 32 filters, FOV 33x33x33 (z,y,x), deltas 8,8,8"
  // The margin an example or a move needs around its centre: fov / 2 + deltas (one move).
  Zyx example_radius() const;
  // How far the network sees, in voxels per axis: 2 * depth convolutions of 3x3x3 give
  // 4 * depth + 1. A field of view wider than this has outer voxels that cannot see its centre,
  // so the network cannot tell whether they belong to the object it follows: floods cross
  // membranes. Empty when the field of view fits, else a warning that says what to change.
  int64_t receptive_field() const { return 4 * depth + 1; }
  std::string field_of_view_warning() const;
};

inline constexpr const char* architecture = "ffn-convstack3d";

class FfnModel {
 public:
  // dtype f64 is for gradient checks; everything else runs in f32.
  FfnModel(const FfnConfig& config, uint64_t seed, ScalarType dtype = ScalarType::f32);
  // image, seed_logits: (N, 1, D, H, W); returns the updated logits, same shape.
  Tensor forward(const Tensor& image, const Tensor& seed_logits) const;
  const FfnConfig& config() const { return config_; }
  const NamedTensors& parameters() const { return params_.parameters; }
  Device device() const { return params_.parameters.front().tensor.device(); }
  void to(Device device) { move_to(params_.parameters, device); }

 private:
  struct Conv {
    Tensor weight, bias;
    Tensor operator()(const Tensor& x) const;
  };
  Conv make_conv(const std::string& name, int64_t in, int64_t out, int kernel, ScalarType dtype);

  FfnConfig config_;
  Parameters params_;
  Conv conv0_a_, conv0_b_;
  std::vector<std::array<Conv, 2>> modules_;
  Conv head_;
};

}  // namespace uniem::nn::ffn
