// Training of a 2D network from sections (nn/dataset.h) into a model folder (nn/model_folder.h).
//
// Each step draws `batch` random square crops of `patch` pixels (sections weighted by area),
// augments them (nn/augment.h), and takes one optimizer step on the loss. Every draw of step s
// comes from a generator seeded with (seed, s) alone, so a resumed run continues exactly as the
// uninterrupted one would have (the weights, batch-norm statistics and optimizer state come from
// last.checkpoint), and the same seed and thread count give the same weights.
//
// The steps run in the loop of nn/training_loop.h (log lines with images/s, progress events,
// cancelling); every `validate_every` steps and at the end the validation sections are scored
// (nn/validation.h) and best.checkpoint is replaced when `best_metric` improves; every
// `checkpoint_every` steps and at the end last.checkpoint is written (atomically and durably), and
// at the end both checkpoints are read back. Resuming needs last.checkpoint, and it and
// best.checkpoint must read whole (check_resumable in nn/model_folder.h): a missing or damaged
// file is refused, naming it. Resumed without best.checkpoint (moved aside), the next validation
// writes a new one.
// With `average` > 0 the weights and batch-norm statistics are also averaged (WeightAverage in
// core/optim.h); validation and both checkpoints' parameters are then the average, and
// last.checkpoint keeps the training weights in its optimizer group ("<name>.training") to resume.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "nn/augment.h"
#include "nn/dataset.h"
#include "nn/model_folder.h"
#include "nn/tiled_inference.h"
#include "nn/training_loop.h"

namespace uniem::nn {

struct TrainOptions {
  int64_t patch = 256;
  int64_t batch = 4;
  int64_t steps = 2000;
  std::string optimizer = "adam";  // adam, adamw, sgd
  double learning_rate = 2e-4;     // UNI-EM's defaults: Adam, lr 2e-4, beta1 0.5
  double beta1 = 0.5, beta2 = 0.999;
  double momentum = 0.9;           // sgd
  double weight_decay = 0;
  double average = 0;  // > 0: validate and save an exponential moving average of the weights with this decay
  std::string schedule = "constant";  // constant, cosine, step (x0.1 at 1/2 and 3/4 of the steps)
  AugmentOptions augment;
  std::string validation = "auto";  // see split_validation
  int64_t validate_every = 200;
  int64_t checkpoint_every = 200;
  int64_t log_every = 10;
  std::string best_metric = "jaccard";  // jaccard, dice, v_rand, v_rand_thinned
  double threshold = 0.5;               // for the validation scores
  uint64_t seed = 1;
  // Where to compute; not recorded in model.json (a model trained on one device loads on any).
  Device device;
  nlohmann::json to_json() const;
  // The options a model folder recorded (model.json "training"); missing keys keep the defaults.
  static TrainOptions from_json(const nlohmann::json& j);
};

struct TrainResult {
  int64_t steps = 0;          // total steps in the model
  double seconds = 0;         // this run's wall time
  double last_loss = 0;       // mean over the last log interval
  nlohmann::json last_scores; // the last validation's scores (null without validation)
  nlohmann::json best_scores;
};

// Throws InputError naming the first training section smaller than the patch.
void check_patch_fits(const Split& data, int64_t patch);

// Trains `model` (a fresh description, or the one in the folder when resuming) on the split into
// `folder`, which must be empty or missing unless `resume` is set.
TrainResult train(const ModelDescription& model, const TrainOptions& options, const Split& data,
                  const std::filesystem::path& folder, bool resume, const Reporter& report);

}  // namespace uniem::nn
