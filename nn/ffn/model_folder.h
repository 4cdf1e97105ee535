// An FFN model folder: what `uniem ffn segment` needs, and what `ffn train --resume` continues.
//
//   model.json        {"format": "uniem-model-ffn", "version": 1,
//                      "network": {"depth", "filters", "fov_zyx", "deltas_zyx"},
//                      "image": {"mean", "stddev"}   (the network sees (value - mean) / stddev),
//                      "training": {...every training option, when uniem trained it...},
//                      "source": {...where imported weights came from...}}
//   model.checkpoint  io/checkpoint.h, architecture "ffn-convstack3d": the weights and, from
//                     training, the optimizer state, step and random-number state
//   training-log.jsonl  from `ffn train`: one JSON object per logged step
//
// Loading checks format, version and that the checkpoint fits the network, naming the file.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "nn/ffn/model.h"

namespace uniem::nn::ffn {

inline constexpr const char* model_format = "uniem-model-ffn";
inline constexpr int model_version = 1;
inline constexpr const char* model_json = "model.json";
inline constexpr const char* model_checkpoint = "model.checkpoint";
inline constexpr const char* training_log = "training-log.jsonl";

struct ModelDescription {
  FfnConfig network;
  double image_mean = 128, image_stddev = 33;
  nlohmann::json training = nlohmann::json::object();
  nlohmann::json source = nlohmann::json::object();
  nlohmann::json to_json() const;
};

ModelDescription read_model_description(const std::filesystem::path& folder);
void write_model_description(const std::filesystem::path& folder, const ModelDescription& d);

struct LoadedModel {
  ModelDescription description;
  std::unique_ptr<FfnModel> model;
  Checkpoint checkpoint;  // tensors already restored into `model`
};

LoadedModel load_model(const std::filesystem::path& folder);

// Before `ffn train --resume`: model.checkpoint must be there and read whole (io/checkpoint.h).
// Throws InputError naming the missing or damaged file and what to do, so that a resume never
// starts again from step 0 over the log.
void check_resumable(const std::filesystem::path& folder);

}  // namespace uniem::nn::ffn
