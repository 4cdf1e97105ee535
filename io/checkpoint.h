// Checkpoints: one file holding everything needed to resume training exactly, or to run a model.
//
// Format (version 1), all integers little-endian:
//   offset 0   8 bytes  magic "UNIEMCKP"
//   offset 8   u32      format version (1)
//   offset 12  u64      header length H
//   offset 20  H bytes  JSON header:
//                {"format": "uniem-checkpoint", "version": 1, "architecture": "unet2d",
//                 "config": {...every option of the model...}, "step": 1200,
//                 "generators": {"train": {"seed": 7, "offset": 91234}}, "extra": {...},
//                 "tensors": [{"name": "enc1.conv1.weight", "group": "parameter", "dtype": "f32",
//                              "shape": [32, 1, 3, 3], "offset": 0, "bytes": 1152}, ...]}
//              group is "parameter", "buffer" (batch-norm statistics) or "optimizer"; offset counts
//              from the start of the data section.
//   then       the data section: each tensor's raw values, row-major, starting at 64-byte multiples
//   last 8     u32 CRC-32 (zlib) of every byte before it, then the 4 bytes "UEND"
//
// Saving writes a temporary file, flushes it to disk (fsync) and renames it over the old one, so
// neither a crash nor a power cut leaves half a checkpoint; temporaries of killed saves are
// removed (io/atomic_output.h).
// Loading checks the magic, the version, the length, the checksum and the header, and fails with
// an InputError naming the file and saying which check failed; restore() checks that names, shapes
// and dtypes match the model being restored, so a checkpoint of another architecture is refused.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/generator.h"
#include "core/tensor.h"

namespace uniem {

inline constexpr uint32_t checkpoint_version = 1;

struct Checkpoint {
  std::string architecture;          // e.g. "unet2d", "ffn"
  nlohmann::json config = nlohmann::json::object();
  int64_t step = 0;
  std::map<std::string, Generator> generators;
  nlohmann::json extra = nlohmann::json::object();  // optimizer kind, learning rate, best score...
  NamedTensors parameters;
  NamedTensors buffers;
  NamedTensors optimizer_state;
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Tensors come back on the CPU. With expected_architecture non-empty, a checkpoint of another
// architecture is refused.
Checkpoint load_checkpoint(const std::filesystem::path& path, const std::string& expected_architecture = "");

// Copies saved tensors into the model's by name (any device). Every tensor of `into` must be in
// `saved` with the same shape and dtype, and `saved` must hold nothing else; `path` and `group`
// name the file and group in the error.
void restore_tensors(const std::filesystem::path& path, const char* group, const NamedTensors& saved,
                     const NamedTensors& into);

}  // namespace uniem
