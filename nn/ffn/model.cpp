#include "nn/ffn/model.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace uniem::nn::ffn {

std::string zyx_string(const Zyx& v, const char* separator) {
  return std::to_string(v[0]) + separator + std::to_string(v[1]) + separator + std::to_string(v[2]);
}

FfnConfig FfnConfig::preset(const std::string& name) {
  if (name == "isotropic") return {.depth = 12, .filters = 32, .fov = {33, 33, 33}, .deltas = {8, 8, 8}};
  if (name == "sparse-z") return {.depth = 9, .filters = 32, .fov = {17, 33, 33}, .deltas = {4, 8, 8}};
  throw UsageError("unknown FFN preset '" + name + "': isotropic (depth 12, FOV 33x33x33, deltas 8,8,8) or "
                   "sparse-z (depth 9, FOV 17x33x33, deltas 4,8,8)");
}

void FfnConfig::check(const std::string& where) const {
  if (depth < 1 || depth > 64) throw InputError(where + ": the FFN depth must be 1..64, not " + std::to_string(depth));
  if (filters < 1 || filters > 1024) throw InputError(where + ": the FFN needs 1..1024 filters, not " + std::to_string(filters));
  for (int a = 0; a < 3; ++a) {
    if (fov[a] < 1 || fov[a] % 2 == 0)
      throw InputError(where + ": the field of view must be odd on every axis (a centre voxel), not " + zyx_string(fov));
    if (deltas[a] < 0 || deltas[a] > fov[a] / 2)
      throw InputError(where + ": deltas " + zyx_string(deltas) + " must be between 0 and half the field of view " +
                       zyx_string(fov));
  }
}

nlohmann::json FfnConfig::to_json() const {
  return {{"depth", depth}, {"filters", filters}, {"fov_zyx", fov}, {"deltas_zyx", deltas}};
}

FfnConfig FfnConfig::from_json(const nlohmann::json& j, const std::string& where) {
  FfnConfig c;
  try {
    c.depth = j.at("depth").get<int64_t>();
    c.filters = j.at("filters").get<int64_t>();
    c.fov = j.at("fov_zyx").get<Zyx>();
    c.deltas = j.at("deltas_zyx").get<Zyx>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": not an FFN network description (" + e.what() + ")");
  }
  c.check(where);
  return c;
}

std::string FfnConfig::describe() const {
  return "FFN depth " + std::to_string(depth) + ", " + std::to_string(filters) + " filters, FOV " + zyx_string(fov, "x") +
         " (z,y,x), deltas " + zyx_string(deltas);
}

Zyx FfnConfig::example_radius() const {
  return {fov[0] / 2 + deltas[0], fov[1] / 2 + deltas[1], fov[2] / 2 + deltas[2]};
}

std::string FfnConfig::field_of_view_warning() const {
  const int64_t sees = receptive_field(), widest = std::max({fov[0], fov[1], fov[2]});
  if (widest <= sees) return "";
  return "the field of view " + zyx_string(fov, "x") + " is wider than a depth-" + std::to_string(depth) +
         " network sees (" + std::to_string(sees) + " voxels per axis): its outer voxels cannot see the centre, and "
         "the flood will cross membranes; use --fov of at most " + std::to_string(sees) + " per axis, or --depth " +
         std::to_string((widest + 2) / 4) + " or more";  // the least depth with 4 * depth + 1 >= widest
}

Tensor FfnModel::Conv::operator()(const Tensor& x) const {
  const int pad = static_cast<int>(weight.size(2) / 2);
  return ops::conv3d(x, weight, bias, {.padding = pad});
}

FfnModel::Conv FfnModel::make_conv(const std::string& name, int64_t in, int64_t out, int kernel, ScalarType dtype) {
  const double fans = static_cast<double>((in + out) * kernel * kernel * kernel);
  const double limit = std::sqrt(6.0 / fans);
  Conv c;
  c.weight = params_.parameter(name + ".weight",
                               ops::rand({out, in, kernel, kernel, kernel}, params_.generator, -limit, limit, dtype));
  c.bias = params_.parameter(name + ".bias", Tensor::zeros({out}, dtype));
  return c;
}

FfnModel::FfnModel(const FfnConfig& config, uint64_t seed, ScalarType dtype) : config_(config), params_(seed) {
  config_.check("FFN configuration");
  const int64_t f = config_.filters;
  conv0_a_ = make_conv("conv0_a", 2, f, 3, dtype);
  conv0_b_ = make_conv("conv0_b", f, f, 3, dtype);
  for (int64_t i = 1; i < config_.depth; ++i) {
    const std::string n = "conv" + std::to_string(i);
    Conv a = make_conv(n + "_a", f, f, 3, dtype);
    Conv b = make_conv(n + "_b", f, f, 3, dtype);
    modules_.push_back({a, b});
  }
  head_ = make_conv("conv_lom", f, 1, 1, dtype);
}

Tensor FfnModel::forward(const Tensor& image, const Tensor& seed_logits) const {
  if (image.rank() != 5 || !(image.shape() == seed_logits.shape()) || image.size(1) != 1)
    throw Error("FFN forward: image " + describe(image) + " and seed " + describe(seed_logits) +
                " must both be (N, 1, D, H, W)");
  Tensor x = ops::concat({image, seed_logits}, 1);
  x = conv0_b_(ops::relu(conv0_a_(x)));
  for (const auto& [a, b] : modules_) x = ops::add(x, b(ops::relu(a(ops::relu(x)))));
  return ops::add(seed_logits, head_(ops::relu(x)));
}

}  // namespace uniem::nn::ffn
