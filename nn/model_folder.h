// A 2D model folder: everything inference needs, nothing else.
//
//   model.json          {"format": "uniem-model-2d", "version": 1, "network": {...}, "loss": {...},
//                        "target": {...}, "training": {...every training option...},
//                        "input": {"channels": 1, "dtype": "uint8"}}
//   last.checkpoint     the latest training state (weights, batch-norm statistics, optimizer,
//                       step): what --resume continues from (io/checkpoint.h)
//   best.checkpoint     the weights of the best validation score so far
//   training-log.jsonl  one JSON object per line: progress lines {"step", "loss", "learning_rate",
//                       "images_per_second", "elapsed_seconds"} and validation lines {"step",
//                       "validation": {"jaccard", "dice", ..., "v_rand"}}; the monitor plots it
//   samples/step-N.png  input, output and target side by side at each validation (training_samples.h)
//
// Loading checks the format and version and that the checkpoint fits the network the JSON
// describes, and says which file is wrong.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/dataset.h"
#include "nn/losses.h"
#include "nn/network.h"

namespace uniem::nn {

inline constexpr const char* model_format = "uniem-model-2d";
inline constexpr int model_version = 1;
inline constexpr const char* model_json = "model.json";
inline constexpr const char* last_checkpoint = "last.checkpoint";
inline constexpr const char* best_checkpoint = "best.checkpoint";
inline constexpr const char* training_log = "training-log.jsonl";

struct ModelDescription {
  NetworkConfig network;
  LossConfig loss;
  TargetMapping target;
  nlohmann::json training = nlohmann::json::object();
  std::string input_dtype = "uint8";
  nlohmann::json to_json() const;
};

// Reads and checks DIR/model.json.
ModelDescription read_model_description(const std::filesystem::path& folder);

struct LoadedModel {
  ModelDescription description;
  std::unique_ptr<Network> network;
  std::string checkpoint;  // which file the weights came from
  int64_t step = 0;
};

// which: "best" (falls back to "last" when no validation ran) or "last".
LoadedModel load_model(const std::filesystem::path& folder, const std::string& which = "best");

// Before training is resumed in `folder` (whose model.json gave `model`): last.checkpoint must be
// there, and it and best.checkpoint (when there) must read whole (io/checkpoint.h: length,
// checksum, header) and fit the network. Throws InputError naming the missing or damaged file and
// what to do, so that a resume never starts again from step 0 nor fails later in infer2d.
void check_resumable(const std::filesystem::path& folder, const ModelDescription& model);

}  // namespace uniem::nn
