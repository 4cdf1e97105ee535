// The sample pictures of a training, for the workbench's training monitor (UNI-EM showed one every
// "display frequency" steps): MODEL/samples/step-N.png, the input, the network's output and the
// target side by side, 4 white pixels apart.
//   train2d, at each validation: the centre of the first held-out section (at most 256 x 256);
//     output: the probability of the first foreground channel (classes: the predicted class,
//     spread over 0..255); target: white foreground, grey where not annotated.
//   ffn train, at each checkpoint: the middle section of the last step's first field of view,
//     drawn 4 times larger: input (stretched to its range), predicted object probability, target.
#pragma once

#include <filesystem>
#include <vector>

#include "nn/dataset.h"
#include "nn/losses.h"
#include "nn/tiled_inference.h"

namespace uniem::nn {

inline constexpr const char* samples_folder = "samples";

// MODEL/samples/step-N.png
std::filesystem::path sample_file(const std::filesystem::path& model, int64_t step);

// Panels of h x w values in [0, 1] side by side, each pixel drawn `scale` times larger; written
// whole or not at all (io/atomic_output.h), its folder made when missing.
void write_sample_picture(const std::filesystem::path& file, const std::vector<std::vector<float>>& panels, int64_t h,
                          int64_t w, int64_t scale = 1);

// train2d's picture of `section`.
void write_training_sample(Network& network, const LossConfig& loss, const Section& section, const TileOptions& tiles,
                           const std::filesystem::path& file);

}  // namespace uniem::nn
