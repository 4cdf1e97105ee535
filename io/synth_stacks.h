// Writing a synthesised volume set (image and ground truth) into one folder; shared by
// `uniem synth` and `uniem demo`.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/image/synth.h"
#include "io/stack.h"

namespace uniem {

// Writes image, neurons, membranes and mitochondria into `folder` (which must exist), each as
// `format` (PNG folder "image/", or multi-page TIFF "image.tif", ...), plus synth.json. Returns
// that JSON.
nlohmann::json write_synth(const std::filesystem::path& folder, const SynthOptions& options, const SynthVolume& s,
                           StackFormat format);

}  // namespace uniem
