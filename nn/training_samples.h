// The sample pictures of a training, for the workbench's training monitor (UNI-EM showed one every
// "display frequency" steps): at each validation, the trainer writes samples/step-N.png in the
// model folder: the input, the network's output and the target side by side, each the centre of
// the first held-out section (at most 256 x 256 pixels), 4 white pixels apart. Output: the
// probability of the first foreground channel (classes: the predicted class, spread over 0..255);
// target: white foreground, grey where not annotated.
#pragma once

#include <filesystem>

#include "nn/dataset.h"
#include "nn/losses.h"
#include "nn/tiled_inference.h"

namespace uniem::nn {

inline constexpr const char* samples_folder = "samples";

// Writes `file` whole or not at all (io/atomic_output.h).
void write_training_sample(Network& network, const LossConfig& loss, const Section& section, const TileOptions& tiles,
                           const std::filesystem::path& file);

}  // namespace uniem::nn
