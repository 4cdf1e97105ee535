#include "nn/training_loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem::nn {
namespace {

// Keeps the log lines of steps up to `step` (a resumed run rewrites what came after).
void truncate_log(const fs::path& file, int64_t step) {
  std::ifstream in(file);
  if (!in) return;
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a line cut short by the interruption
    }
  }
  in.close();
  write_file_atomically(file, kept, true);
}

}  // namespace

TrainingLog::TrainingLog(const fs::path& file, int64_t start, std::string phase) : file_(file), phase_(std::move(phase)) {
  if (start > 0) truncate_log(file, start);
  else write_file_atomically(file, "", true);
  out_.open(file, std::ios::app);
  if (!out_) throw InputError(file, "cannot be written");
}

void TrainingLog::write(const nlohmann::json& line) {
  out_ << line.dump() << "\n" << std::flush;
  if (!out_) throw InputError(file_, "could not be written (disk full?)");
  nlohmann::json event{{"event", "metrics"}, {"phase", phase_}};
  event.update(line);
  progress_event(event.dump());
}

LoopResult run_training_loop(const LoopSteps& p, const LearningRateSchedule& schedule, Optimizer& optimizer,
                             TrainingLog& log, const LoopHooks& hooks, const Reporter& report) {
  LoopResult result;
  const auto begin = std::chrono::steady_clock::now();
  auto interval_start = begin;
  double loss_sum = 0;
  int64_t loss_count = 0;
  for (int64_t step = p.start + 1; step <= p.steps; ++step) {
    optimizer.set_learning_rate(schedule.at(step - 1));
    const double value = hooks.step(step);
    if (!std::isfinite(value))
      throw Error("training diverged at step " + std::to_string(step) + " (loss " + std::to_string(value) +
                  "); lower --learning-rate or resume from the last checkpoint");
    loss_sum += value;
    ++loss_count;
    if (step % p.log_every == 0 || step == p.steps) {
      const auto now = std::chrono::steady_clock::now();
      const double interval = std::chrono::duration<double>(now - interval_start).count();
      const double elapsed = std::chrono::duration<double>(now - begin).count();
      const double rate = static_cast<double>(loss_count * p.items_per_step) / std::max(interval, 1e-9);
      const double left = elapsed / static_cast<double>(step - p.start) * static_cast<double>(p.steps - step);
      nlohmann::json line = {{"step", step},
                             {"loss", loss_sum / static_cast<double>(loss_count)},
                             {"learning_rate", optimizer.learning_rate()},
                             {p.items + "_per_second", rate},
                             {"elapsed_seconds", elapsed}};
      std::string described;
      if (hooks.interval_metrics) {
        const nlohmann::json metrics = hooks.interval_metrics();
        line.update(metrics);
        if (hooks.describe_metrics) described = "  " + hooks.describe_metrics(metrics);
      }
      log.write(line);
      char text[320];
      std::snprintf(text, sizeof text, "step %lld/%lld  loss %.4f%s  %.*f %s/s  lr %.1e  %s left", static_cast<long long>(step),
                    static_cast<long long>(p.steps), line["loss"].get<double>(), described.c_str(), rate >= 1000 ? 0 : 2, rate,
                    p.items.c_str(), optimizer.learning_rate(), format_duration(left).c_str());
      report(text);
      result.last_line = line;
      loss_sum = 0;
      loss_count = 0;
      interval_start = now;
    }
    if (hooks.validate && ((p.validate_every > 0 && step % p.validate_every == 0) || step == p.steps)) hooks.validate(step);
    const bool saved = step % p.checkpoint_every == 0 || step == p.steps;
    if (saved) hooks.save(step);
    if (cancel_requested() && step < p.steps) {  // a safe point: the step is whole; keep it for --resume
      if (!saved) hooks.save(step);
      throw Cancelled("training stopped at step " + std::to_string(step) + " of " + std::to_string(p.steps) + "; " +
                      hooks.checkpoint.string() + " holds it: continue with --resume");
    }
  }
  if (p.start >= p.steps) report("the model already has " + std::to_string(p.start) + " steps; raise --steps to train further");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return result;
}

}  // namespace uniem::nn
