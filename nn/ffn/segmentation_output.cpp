#include "nn/ffn/segmentation_output.h"

#include "core/error.h"
#include "core/random.h"
#include "io/checkpoint.h"
#include "io/stack.h"

namespace fs = std::filesystem;

namespace uniem::nn::ffn {

namespace {
constexpr const char* state_architecture = "ffn-segmentation-state";
}

fs::path state_path(const fs::path& out) {
  fs::path p = out;
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "out/" -> "out"
  p += ".ffn-state";
  return p;
}

void save_state(const fs::path& path, const SegmentationState& state, const nlohmann::json& run) {
  Checkpoint c;
  c.architecture = state_architecture;
  c.config = run;
  c.step = state.next_seed;
  c.extra = {{"max_id", state.max_id}, {"counters", state.counters}, {"segments", state.segments}};
  const auto n = static_cast<int64_t>(state.labels.size());
  c.parameters.push_back({"labels", Tensor::from_vector(state.labels, {n})});
  c.parameters.push_back({"probability", Tensor::from_vector(state.probability, {n})});
  save_checkpoint(path, c);
}

SegmentationState load_state(const fs::path& path, nlohmann::json* run) {
  const Checkpoint c = load_checkpoint(path, state_architecture);
  SegmentationState s;
  if (c.parameters.size() != 2 || c.parameters[0].name != "labels" || c.parameters[1].name != "probability")
    throw InputError(path.string() + ": not an FFN segmentation state (its tensors are not labels and probability)");
  const Tensor& labels = c.parameters[0].tensor;
  const Tensor& probability = c.parameters[1].tensor;
  if (labels.dtype() != ScalarType::i32 || probability.dtype() != ScalarType::u8 || labels.numel() != probability.numel())
    throw InputError(path.string() + ": not an FFN segmentation state (tensor types or sizes)");
  s.labels.assign(labels.data<int32_t>(), labels.data<int32_t>() + labels.numel());
  s.probability.assign(probability.data<uint8_t>(), probability.data<uint8_t>() + probability.numel());
  s.next_seed = c.step;
  s.max_id = c.extra.value("max_id", 0);
  s.counters = c.extra.value("counters", nlohmann::json::object());
  s.segments = c.extra.value("segments", nlohmann::json::array());
  if (run) *run = c.config;
  return s;
}

nlohmann::json write_segmentation(const fs::path& folder, const SegmentationState& state,
                                  const std::array<int64_t, 3>& shape, const VoxelSize& voxel_size, int bits) {
  const int32_t max_id = state.max_id;
  if (bits == 0) bits = max_id <= 65535 ? 16 : 32;
  if (bits == 16 && max_id > 65535)
    throw InputError("the segmentation has " + std::to_string(max_id) + " objects, more than a 16-bit label image holds; use --bits 32");
  const int64_t n = shape[0] * shape[1] * shape[2];
  Volume labels(bits == 16 ? DType::u16 : DType::u32, shape[0], shape[1], shape[2]);
  Volume colour(DType::u8, shape[0], shape[1], shape[2], 3);
  Volume probability(DType::u8, shape[0], shape[1], shape[2]);
  for (Volume* v : {&labels, &colour, &probability}) v->voxel_size = voxel_size;
  uint8_t* rgb = colour.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = std::max(state.labels[static_cast<size_t>(i)], 0);
    if (bits == 16) labels.data<uint16_t>()[i] = static_cast<uint16_t>(id);
    else labels.data<uint32_t>()[i] = static_cast<uint32_t>(id);
    probability.data<uint8_t>()[i] = state.probability[static_cast<size_t>(i)];
    for (int c = 0; c < 3 && id > 0; ++c)
      rgb[i * 3 + c] = static_cast<uint8_t>(48 + 207 * hash_uniform(static_cast<uint64_t>(c), static_cast<uint64_t>(id)));
  }
  WriteOptions png;
  WriteOptions tiff;
  tiff.format = StackFormat::multipage_tiff;
  const std::string labels_name = bits == 16 ? "labels" : "labels.tif";
  write_volume(folder / labels_name, labels, bits == 16 ? png : tiff);
  write_volume(folder / "colour", colour, png);
  write_volume(folder / "probabilities", probability, png);
  return {{"labels", labels_name}, {"bits", bits}, {"colour", "colour"}, {"probabilities", "probabilities"}, {"objects", max_id}};
}

}  // namespace uniem::nn::ffn
