#include "nn/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/autograd.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/optim.h"
#include "io/atomic_output.h"
#include "io/checkpoint.h"
#include "nn/training_loop.h"
#include "nn/training_samples.h"
#include "nn/validation.h"

namespace fs = std::filesystem;

namespace uniem::nn {
namespace {

std::unique_ptr<Optimizer> make_optimizer(const TrainOptions& o, const NamedTensors& parameters) {
  if (o.optimizer == "sgd")
    return std::make_unique<Sgd>(parameters, SgdParams{.lr = o.learning_rate, .momentum = o.momentum, .weight_decay = o.weight_decay});
  return std::make_unique<Adam>(parameters, AdamParams{.lr = o.learning_rate, .beta1 = o.beta1, .beta2 = o.beta2,
                                                       .weight_decay = o.weight_decay, .decoupled = o.optimizer == "adamw"});
}

// One training batch: inputs (B, C, P, P), targets (B, T, P, P) f32 or (B, 1, P, P) i32 for
// softmax, mask (B, 1, P, P) u8.
struct Batch {
  Tensor input, target, mask;
};

Batch draw_batch(const std::vector<Section>& sections, const TrainOptions& o, const ModelDescription& m, int64_t step) {
  Random random(splitmix64(o.seed ^ splitmix64(static_cast<uint64_t>(step) + 0x5eed)));
  const int64_t p = o.patch, plane = p * p, b = o.batch;
  const int64_t c = m.network.in_channels, t = m.target.target_channels();
  Batch batch{Tensor::empty({b, c, p, p}),
              m.loss.softmax() ? Tensor::empty({b, 1, p, p}, ScalarType::i32) : Tensor::empty({b, t, p, p}),
              Tensor::empty({b, 1, p, p}, ScalarType::u8)};
  double total_area = 0;
  for (const Section& s : sections) total_area += static_cast<double>((s.height - p + 1) * (s.width - p + 1));
  std::vector<uint8_t> target(static_cast<size_t>(t * plane));
  for (int64_t i = 0; i < b; ++i) {
    double pick = random.uniform() * total_area;
    size_t k = 0;
    for (; k + 1 < sections.size(); ++k) {
      pick -= static_cast<double>((sections[k].height - p + 1) * (sections[k].width - p + 1));
      if (pick < 0) break;
    }
    const Section& s = sections[k];
    const int64_t y = random.integer(0, s.height - p), x = random.integer(0, s.width - p);
    float* image = batch.input.data<float>() + i * c * plane;
    crop(s, y, x, p, image, target.data());
    augment(image, c, target.data(), t, p, o.augment, random);
    uint8_t* mask = batch.mask.data<uint8_t>() + i * plane;
    for (int64_t j = 0; j < plane; ++j) {
      bool keep = true;
      for (int64_t ch = 0; ch < t; ++ch) keep = keep && target[static_cast<size_t>(ch * plane + j)] != ignored;
      mask[j] = keep;
    }
    if (m.loss.softmax()) {
      int32_t* out = batch.target.data<int32_t>() + i * plane;
      for (int64_t j = 0; j < plane; ++j) out[j] = mask[j] ? target[static_cast<size_t>(j)] : 0;
    } else {
      float* out = batch.target.data<float>() + i * t * plane;
      for (int64_t j = 0; j < t * plane; ++j) out[j] = target[static_cast<size_t>(j)] == 1 ? 1.0f : 0.0f;
    }
  }
  return batch;
}

double metric(const nlohmann::json& scores, const std::string& name) {
  return scores.contains(name) ? scores[name].get<double>() : scores["jaccard"].get<double>();
}

}  // namespace

nlohmann::json TrainOptions::to_json() const {
  return {{"patch", patch},
          {"batch", batch},
          {"steps", steps},
          {"optimizer", optimizer},
          {"learning_rate", learning_rate},
          {"beta1", beta1},
          {"beta2", beta2},
          {"momentum", momentum},
          {"weight_decay", weight_decay},
          {"average", average},
          {"schedule", schedule},
          {"augment",
           {{"symmetries", augment.symmetries},
            {"elastic", augment.elastic},
            {"elastic_spacing", augment.elastic_spacing},
            {"contrast", augment.contrast},
            {"brightness", augment.brightness},
            {"defects", augment.defects},
            {"missing", augment.missing}}},
          {"validation", validation},
          {"validate_every", validate_every},
          {"checkpoint_every", checkpoint_every},
          {"log_every", log_every},
          {"best_metric", best_metric},
          {"threshold", threshold},
          {"seed", seed}};
}

void check_patch_fits(const Split& data, int64_t patch) {
  for (const Section& s : data.train)
    if (s.height < patch || s.width < patch)
      throw InputError(s.name, "is " + std::to_string(s.width) + " x " + std::to_string(s.height) +
                                   " pixels, smaller than the " + std::to_string(patch) + "-pixel training patch; use a smaller --patch");
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  auto take = [&](const char* key, auto& field) {
    if (j.contains(key)) field = j[key].get<std::decay_t<decltype(field)>>();
  };
  take("patch", o.patch);
  take("batch", o.batch);
  take("steps", o.steps);
  take("optimizer", o.optimizer);
  take("learning_rate", o.learning_rate);
  take("beta1", o.beta1);
  take("beta2", o.beta2);
  take("momentum", o.momentum);
  take("weight_decay", o.weight_decay);
  take("average", o.average);
  take("schedule", o.schedule);
  take("validation", o.validation);
  take("validate_every", o.validate_every);
  take("checkpoint_every", o.checkpoint_every);
  take("log_every", o.log_every);
  take("best_metric", o.best_metric);
  take("threshold", o.threshold);
  take("seed", o.seed);
  if (j.contains("augment")) {
    const nlohmann::json& a = j["augment"];
    o.augment.symmetries = a.value("symmetries", o.augment.symmetries);
    o.augment.elastic = a.value("elastic", o.augment.elastic);
    o.augment.elastic_spacing = a.value("elastic_spacing", o.augment.elastic_spacing);
    o.augment.contrast = a.value("contrast", o.augment.contrast);
    o.augment.brightness = a.value("brightness", o.augment.brightness);
    o.augment.defects = a.value("defects", o.augment.defects);
    o.augment.missing = a.value("missing", o.augment.missing);
  }
  return o;
}

TrainResult train(const ModelDescription& model, const TrainOptions& o, const Split& data, const fs::path& folder,
                  bool resume, const Reporter& report) {
  check_patch_fits(data, o.patch);
  std::unique_ptr<Network> network = make_network(model.network, o.seed);  // drawn on the CPU, same on every device
  network->to(o.device);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(o, network->parameters());
  std::unique_ptr<WeightAverage> average;
  if (o.average > 0) {
    NamedTensors averaged = network->parameters();
    for (const NamedTensor& b : network->buffers()) averaged.push_back(b);
    average = std::make_unique<WeightAverage>(averaged, o.average);
  }
  // The optimizer group of last.checkpoint: the optimizer's state and, when averaging, the
  // training weights (held by the average while it is swapped in for saving).
  auto resumable_state = [&] {
    NamedTensors state = optimizer->state();
    if (average)
      for (const NamedTensor& t : average->held(".training")) state.push_back(t);
    return state;
  };
  const LearningRateSchedule lr = LearningRateSchedule::named(o.schedule, o.learning_rate, o.steps);
  const std::string architecture = "2d-" + model.network.family;

  int64_t start = 0;
  double best = -1;
  nlohmann::json best_scores;
  const fs::path last = folder / last_checkpoint, log_file = folder / training_log;
  if (resume) {
    check_resumable(folder, model);  // never silently from step 0, nor on with a damaged best.checkpoint
    const Checkpoint c = load_checkpoint(last, architecture);
    if (c.config != model.network.to_json()) throw InputError(last, "was saved for another network than model.json describes");
    if (average) average->swap();  // as when it was saved: the network holds the average, the average the training weights
    restore_tensors(last, "parameter", c.parameters, network->parameters());
    restore_tensors(last, "buffer", c.buffers, network->buffers());
    restore_tensors(last, "optimizer", c.optimizer_state, resumable_state());
    optimizer->set_steps(c.step);
    if (average) {
      average->swap();
      average->set_updates(c.step);
    }
    start = c.step;
    if (fs::exists(folder / best_checkpoint)) {  // moved aside: the next validation writes a new one
      best = c.extra.value("best", -1.0);
      best_scores = c.extra.value("best_scores", nlohmann::json());
    }
    report("resuming from step " + std::to_string(start) + " (" + last.string() + ")");
  } else {
    fs::create_directories(folder);
    write_file_atomically(folder / model_json, model.to_json().dump(2) + "\n", true);
  }
  TrainingLog log(log_file, start, "train2d");

  const TileOptions tiles{.tile = std::min<int64_t>(1024, 2 * o.patch), .overlap = o.patch / 4, .batch = 1};
  auto save = [&](const fs::path& file, int64_t step, bool with_optimizer) {
    Checkpoint c;
    c.architecture = architecture;
    c.config = model.network.to_json();
    c.step = step;
    c.extra = {{"optimizer", optimizer->kind()}, {"learning_rate", optimizer->learning_rate()}, {"best", best},
               {"best_scores", best_scores}, {"seed", o.seed}};
    const bool swap = average && !average->swapped();
    if (swap) average->swap();
    c.parameters = network->parameters();
    c.buffers = network->buffers();
    if (with_optimizer) c.optimizer_state = resumable_state();
    save_checkpoint(file, c);
    if (swap) average->swap();
  };
  TrainResult result;
  auto run_validation = [&](int64_t step) {
    if (data.validation.empty()) return;
    if (average) average->swap();
    const ValidationScores v = validate(*network, model.loss, model.target, data.validation, tiles, o.threshold);
    write_training_sample(*network, model.loss, data.validation.front(), tiles,
                          sample_file(folder, step));
    const nlohmann::json scores = v.to_json();
    result.last_scores = scores;
    log.write({{"step", step}, {"validation", scores}});
    const double score = metric(scores, o.best_metric);
    char line[200];
    std::snprintf(line, sizeof line, "validation at step %lld: Jaccard %.4f, Dice %.4f", static_cast<long long>(step), v.jaccard, v.dice);
    std::string text = line;
    if (v.v_rand >= 0) {
      std::snprintf(line, sizeof line, ", V_rand %.4f (thinned %.4f)", v.v_rand, v.v_rand_thinned);
      text += line;
    }
    if (score > best) {
      best = score;
      best_scores = scores;
      save(folder / best_checkpoint, step, false);
      text += "  (best so far, saved)";
    }
    if (average) average->swap();
    report(text);
  };

  LoopHooks hooks;
  hooks.step = [&](int64_t step) {
    const Batch batch = draw_batch(data.train, o, model, step);
    const Tensor loss = training_loss(model.loss, network->forward(batch.input.to(o.device), true),
                                      batch.target.to(o.device), batch.mask.to(o.device));
    const double value = loss.item();
    if (!std::isfinite(value)) return value;
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    if (average) average->update();
    return value;
  };
  hooks.validate = run_validation;
  hooks.save = [&](int64_t step) { save(last, step, true); };
  hooks.checkpoint = last;
  LoopSteps steps{.start = start, .steps = o.steps, .log_every = o.log_every, .checkpoint_every = o.checkpoint_every,
                  .validate_every = o.validate_every, .items = "images", .items_per_step = o.batch};
  const LoopResult loop = run_training_loop(steps, lr, *optimizer, log, hooks, report);
  if (!loop.last_line.is_null()) result.last_loss = loop.last_line["loss"];
  // The checkpoints were written durably (io/checkpoint.h); read them back all the same, so that
  // what infer2d and --resume will load is known to read before this run reports success.
  for (const char* name : {last_checkpoint, best_checkpoint}) {
    const fs::path file = folder / name;
    if (!fs::exists(file)) continue;
    try {
      load_checkpoint(file, architecture);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (it was just written and does not read back: check the disk)");
    }
  }
  result.steps = std::max(start, o.steps);
  result.seconds = loop.seconds;
  result.best_scores = best_scores;
  return result;
}

}  // namespace uniem::nn
