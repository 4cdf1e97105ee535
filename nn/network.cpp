#include "nn/network.h"

#include "core/error.h"

namespace uniem::nn {

nlohmann::json NetworkConfig::to_json() const {
  return {{"family", family}, {"in_channels", in_channels}, {"out_channels", out_channels}, {"filters", filters},
          {"depth", depth},   {"blocks", blocks},           {"layers", layers},             {"growth", growth}};
}

NetworkConfig NetworkConfig::from_json(const nlohmann::json& j, const std::string& source) {
  NetworkConfig c;
  try {
    c.family = j.at("family").get<std::string>();
    c.in_channels = j.at("in_channels").get<int64_t>();
    c.out_channels = j.at("out_channels").get<int64_t>();
    c.filters = j.at("filters").get<int64_t>();
    c.depth = j.at("depth").get<int64_t>();
    c.blocks = j.at("blocks").get<int64_t>();
    c.layers = j.at("layers").get<int64_t>();
    c.growth = j.at("growth").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, std::string("the network description is incomplete or malformed (") + e.what() + ")");
  }
  c.validate(source);
  return c;
}

void NetworkConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& what) { throw InputError(source, what); };
  if (family != "unet" && family != "resnet" && family != "highway" && family != "densenet")
    fail("unknown network family '" + family + "' (unet, resnet, highway or densenet)");
  if (in_channels != 1 && in_channels != 3) fail("input channels must be 1 (grey) or 3 (colour), got " + std::to_string(in_channels));
  if (out_channels < 1 || out_channels > 64) fail("output channels must be 1..64, got " + std::to_string(out_channels));
  if (filters < 1 || filters > 1024) fail("filters must be 1..1024, got " + std::to_string(filters));
  if (family == "unet" && (depth < 1 || depth > 8)) fail("U-Net depth must be 1..8 levels, got " + std::to_string(depth));
  if (family != "unet" && (blocks < 0 || blocks > 256)) fail("blocks must be 0..256, got " + std::to_string(blocks));
  if (family == "densenet" && (layers < 1 || layers > 64 || growth < 1 || growth > 256))
    fail("DenseNet layers per block must be 1..64 and growth 1..256");
}

std::string NetworkConfig::describe() const {
  std::string s;
  if (family == "unet") s = "U-Net, " + std::to_string(depth) + " levels";
  if (family == "resnet") s = "ResNet, " + std::to_string(blocks) + " residual blocks";
  if (family == "highway") s = "HighwayNet, " + std::to_string(blocks) + " highway units";
  if (family == "densenet")
    s = "DenseNet, " + std::to_string(blocks) + " dense blocks of " + std::to_string(layers) + " layers (growth " +
        std::to_string(growth) + ")";
  return s + ", " + std::to_string(filters) + " filters, " + std::to_string(in_channels) + " -> " +
         std::to_string(out_channels) + " channels";
}

int64_t Network::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters_) n += p.tensor.numel();
  return n;
}

int64_t Network::size_multiple() const { return config_.family == "unet" ? int64_t{1} << (config_.depth - 1) : 4; }

std::unique_ptr<Network> make_network(const NetworkConfig& config, uint64_t seed) {
  config.validate("options");
  return config.family == "unet" ? make_unet(config, seed) : make_encoder_decoder(config, seed);
}

}  // namespace uniem::nn
