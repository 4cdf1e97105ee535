// Training of the flood-filling network (upstream train.py with the "fixed" FOV policy).
//
// `batch` slots each hold one training example: an (fov + 2 deltas) box of image and ground truth
// centred on a coordinate from `ffn prep`, flipped along random axes and transposed in x/y as
// augmentation. Its target is 0.95 inside the object under the centre voxel (0.05 elsewhere, and
// everywhere when the centre is background); its seed starts as logit(0.95) at the centre and
// logit(0.05) elsewhere. The field of view visits the centre and then the 26 shifts by +-deltas
// (in a random order), each only when the seed's probability there has reached
// `move_threshold`; one optimizer step (sigmoid cross-entropy, mean over the batch's fields of
// view, gradient elements clipped to +-clip) per visit, the network's output written back into
// the seed, so the network learns from its own earlier predictions. A slot whose shifts are used
// up takes the next example.
//
// The steps run in the loop of nn/training_loop.h, which 2D training shares (the same log lines,
// with precision, recall and F1 of the predicted mask at 0.9 and voxels/s; progress events;
// cancelling). Examples are drawn in the prepared (shuffled) order, their augmentation and shift order from
// (seed, example number) alone; the checkpoint holds the weights, optimizer state and every
// slot's seed, so --resume continues exactly as an uninterrupted run, and the same seed and
// thread count give the same weights.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/image/volume.h"
#include "nn/ffn/model_folder.h"
#include "nn/ffn/prep.h"
#include "nn/training_loop.h"

namespace uniem::nn::ffn {

struct TrainOptions {
  int64_t batch = 4;
  int64_t steps = 10000;
  std::string optimizer = "sgd";  // sgd (upstream), momentum, adam, adamw
  double learning_rate = 0.001;
  std::string schedule = "constant";  // constant (upstream), cosine or step: LearningRateSchedule::named
  double momentum = 0.9;          // for "momentum"
  double clip = 0.7;              // per gradient element; 0 turns it off
  double move_threshold = 0.9;
  bool shuffle_moves = true;
  bool augment = true;
  uint64_t seed = 1;
  int64_t log_every = 10;
  int64_t checkpoint_every = 500;
  // Where to compute; not recorded (a model trained on one device loads on any).
  Device device;
  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);
  void check() const;  // UsageError
};

struct TrainingData {
  std::vector<Volume> images, labels;  // same shapes pairwise
  std::vector<Coordinate> coordinates;
  Zyx margin{};                        // what prep kept clear of the borders
};

struct TrainResult {
  int64_t steps = 0;
  double seconds = 0, loss = 0, precision = 0, recall = 0, f1 = 0, voxels_per_second = 0;
};

using nn::Reporter;

// Throws InputError when there are no coordinates or the examples (fov + 2 deltas) do not fit
// the margin prep kept.
void check_fits(const FfnConfig& network, const TrainingData& data);

// Trains into `folder` (model.json, model.checkpoint, training-log.jsonl); with `resume`,
// continues from its checkpoint. Throws InputError when the examples do not fit the prepared
// margin.
TrainResult train(const ModelDescription& model, const TrainOptions& o, const TrainingData& data,
                  const std::filesystem::path& folder, bool resume, const Reporter& report);

}  // namespace uniem::nn::ffn
