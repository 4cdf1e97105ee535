// The loop both trainers run (train2d: nn/trainer.h; ffn train: nn/ffn/trainer.h), so that they
// schedule, log, validate, checkpoint, resume and stop alike and write the same training log.
//
// Each step sets the learning rate from the schedule and calls the trainer's step, which returns
// the loss; a loss that is not finite stops the training ("diverged"), naming the step. Every
// `log_every` steps and at the last step, one line of training-log.jsonl:
//   {"step", "loss" (mean over the interval), "learning_rate", "<items>_per_second",
//    "elapsed_seconds", and the trainer's interval metrics (ffn: precision, recall, f1, examples)}
// the same object as a progress event {"event": "metrics", "phase": ...} (core/progress.h), and a
// report line "step S/N  loss L  [metrics]  R <items>/s  lr X  T left". Every `validate_every`
// steps (if any) and at the last, the trainer validates (its lines: {"step", "validation": {...}});
// every `checkpoint_every` steps and at the last, it saves its checkpoint. Ctrl+C (core/cancel.h)
// is taken after a whole step: the checkpoint is saved and Cancelled thrown, saying how to go on.
// A resumed run (start > 0) first drops the log lines of steps after `start`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/optim.h"

namespace uniem::nn {

// Progress lines for the user.
using Reporter = std::function<void(const std::string&)>;

// training-log.jsonl: a line is on disk before the next step starts; a full disk stops the
// training, naming the file.
class TrainingLog {
 public:
  // A new, empty log, or (resuming from `start` > 0) the existing one without lines past `start`.
  TrainingLog(const std::filesystem::path& file, int64_t start, std::string phase);
  void write(const nlohmann::json& line);  // and its progress event

 private:
  std::filesystem::path file_;
  std::string phase_;
  std::ofstream out_;
};

struct LoopSteps {
  int64_t start = 0, steps = 0;  // steps start + 1 .. steps run
  int64_t log_every = 10, checkpoint_every = 200, validate_every = 0;  // 0: no validation
  std::string items = "images";  // what the rate counts
  int64_t items_per_step = 1;
};

struct LoopHooks {
  std::function<double(int64_t step)> step;  // one optimizer step; returns the loss
  // Metrics of the interval since the last log line, added to it (and then started afresh),
  // with their text for the report line.
  std::function<nlohmann::json()> interval_metrics;
  std::function<std::string(const nlohmann::json&)> describe_metrics;
  std::function<void(int64_t step)> validate;  // writes its own log line
  std::function<void(int64_t step)> save;      // the resumable checkpoint
  std::filesystem::path checkpoint;            // named in the messages
};

struct LoopResult {
  double seconds = 0;          // this run's wall time
  nlohmann::json last_line;    // the last training log line (null when no step ran)
};

LoopResult run_training_loop(const LoopSteps& plan, const LearningRateSchedule& schedule, Optimizer& optimizer,
                             TrainingLog& log, const LoopHooks& hooks, const Reporter& report);

}  // namespace uniem::nn
