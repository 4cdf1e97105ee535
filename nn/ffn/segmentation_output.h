// What `uniem ffn segment` and `uniem ffn export` write from a segmentation state
// (nn/ffn/segmenter.h), and the state file that lets an interrupted run resume.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/image/volume.h"
#include "nn/ffn/segmenter.h"

namespace uniem::nn::ffn {

// The state file of a run writing OUT: "OUT.ffn-state" beside it (a uniem checkpoint file of
// architecture "ffn-segmentation-state"; `run` describes the run, so a resume can check it).
std::filesystem::path state_path(const std::filesystem::path& out);
void save_state(const std::filesystem::path& path, const SegmentationState& state, const nlohmann::json& run);
SegmentationState load_state(const std::filesystem::path& path, nlohmann::json* run);

// Writes into `folder` (existing, empty): labels/ (16-bit PNG) or labels.tif (32-bit) by `bits`
// (0: 16 when the ids fit, else 32; 16 with more ids is refused, never wrapped), colour/ (a
// stable colour per object, RGB PNG) and probabilities/ (8-bit PNG). Returns what it wrote.
nlohmann::json write_segmentation(const std::filesystem::path& folder, const SegmentationState& state,
                                  const std::array<int64_t, 3>& shape, const VoxelSize& voxel_size, int bits);

}  // namespace uniem::nn::ffn
