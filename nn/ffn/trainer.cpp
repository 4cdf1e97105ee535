#include "nn/ffn/trainer.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <cmath>
#include <fstream>

#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/random.h"
#include "core/optim.h"
#include "io/atomic_output.h"
#include "io/checkpoint.h"
#include "nn/training_loop.h"
#include "nn/training_samples.h"

namespace fs = std::filesystem;

namespace uniem::nn::ffn {

nlohmann::json TrainOptions::to_json() const {
  return {{"batch", batch},       {"steps", steps},         {"optimizer", optimizer},
          {"learning_rate", learning_rate}, {"schedule", schedule}, {"momentum", momentum}, {"clip", clip},
          {"move_threshold", move_threshold}, {"shuffle_moves", shuffle_moves}, {"augment", augment},
          {"seed", seed},         {"log_every", log_every}, {"checkpoint_every", checkpoint_every}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  o.batch = j.value("batch", o.batch);
  o.steps = j.value("steps", o.steps);
  o.optimizer = j.value("optimizer", o.optimizer);
  o.learning_rate = j.value("learning_rate", o.learning_rate);
  o.schedule = j.value("schedule", o.schedule);
  o.momentum = j.value("momentum", o.momentum);
  o.clip = j.value("clip", o.clip);
  o.move_threshold = j.value("move_threshold", o.move_threshold);
  o.shuffle_moves = j.value("shuffle_moves", o.shuffle_moves);
  o.augment = j.value("augment", o.augment);
  o.seed = j.value("seed", o.seed);
  o.log_every = j.value("log_every", o.log_every);
  o.checkpoint_every = j.value("checkpoint_every", o.checkpoint_every);
  return o;
}

void TrainOptions::check() const {
  if (batch < 1 || steps < 1 || log_every < 1 || checkpoint_every < 1)
    throw UsageError("--batch, --steps, --log-every and --checkpoint-every must be at least 1");
  if (optimizer != "sgd" && optimizer != "momentum" && optimizer != "adam" && optimizer != "adamw")
    throw UsageError("--optimizer takes sgd, momentum, adam or adamw, not '" + optimizer + "'");
  if (!(learning_rate > 0)) throw UsageError("--learning-rate must be positive");
  LearningRateSchedule::named(schedule, learning_rate, steps);  // a bad name is refused here
  if (clip < 0) throw UsageError("--clip must be 0 (off) or positive");
  if (!(move_threshold > 0 && move_threshold < 1)) throw UsageError("--move-threshold takes a probability between 0 and 1");
}

namespace {

float logit(double p) { return static_cast<float>(std::log(p / (1 - p))); }

int64_t volume_of(const Zyx& s) { return s[0] * s[1] * s[2]; }

// One example in a slot: which one, the shifts still to visit, its seed; image and target are
// derived from the example number (so a checkpoint need not hold them).
struct Slot {
  int64_t example = -1;
  std::vector<int> shifts;  // indices into Trainer::shifts_, visited front to back
  std::vector<float> seed, image, target;
};

class Trainer {
 public:
  Trainer(const ModelDescription& m, const TrainOptions& o, const TrainingData& d)
      : model_(m), o_(o), data_(d), fov_(m.network.fov), deltas_(m.network.deltas) {
    for (int a = 0; a < 3; ++a) size_[a] = fov_[a] + 2 * deltas_[a];
    shifts_.push_back({0, 0, 0});
    for (int64_t dz : {-1, 0, 1})
      for (int64_t dy : {-1, 0, 1})
        for (int64_t dx : {-1, 0, 1})
          if (dz || dy || dx) {
            const Zyx s{dz * deltas_[0], dy * deltas_[1], dx * deltas_[2]};
            if (std::find(shifts_.begin(), shifts_.end(), s) == shifts_.end()) shifts_.push_back(s);
          }
    slots_.resize(static_cast<size_t>(o.batch));
  }

  // Loads example `e` into `slot`.
  void load(Slot& slot, int64_t e) {
    slot.example = e;
    const Coordinate& c = data_.coordinates[static_cast<size_t>(e % static_cast<int64_t>(data_.coordinates.size()))];
    const Volume& image = data_.images[static_cast<size_t>(c.volume)];
    const Volume& labels = data_.labels[static_cast<size_t>(c.volume)];
    const uint64_t draw = splitmix64(o_.seed ^ splitmix64(static_cast<uint64_t>(e) + 0xffe));
    const bool flip[3] = {o_.augment && (draw & 1), o_.augment && (draw & 2), o_.augment && (draw & 4)};
    const bool transpose = o_.augment && (draw & 8) && size_[1] == size_[2];
    const int64_t n = volume_of(size_);
    slot.image.resize(static_cast<size_t>(n));
    slot.target.resize(static_cast<size_t>(n));
    const Zyx centre{c.z, c.y, c.x}, half{size_[0] / 2, size_[1] / 2, size_[2] / 2};
    const double object = labels.value(labels.shape()[2] * (c.z * labels.shape()[1] + c.y) + c.x);
    const double scale = 1.0 / model_.image_stddev;
    for (int64_t z = 0; z < size_[0]; ++z)
      for (int64_t y = 0; y < size_[1]; ++y)
        for (int64_t x = 0; x < size_[2]; ++x) {
          Zyx q{z, y, x};
          if (transpose) std::swap(q[1], q[2]);
          for (int a = 0; a < 3; ++a)
            if (flip[a]) q[a] = size_[a] - 1 - q[a];
          const int64_t i = ((centre[0] - half[0] + q[0]) * image.ny() + centre[1] - half[1] + q[1]) * image.nx() + centre[2] - half[2] + q[2];
          const size_t o = static_cast<size_t>((z * size_[1] + y) * size_[2] + x);
          slot.image[o] = static_cast<float>((image.value(i) - model_.image_mean) * scale);
          slot.target[o] = object != 0 && labels.value(i) == object ? 0.95f : 0.05f;
        }
    slot.seed.assign(static_cast<size_t>(n), logit(0.05));
    slot.seed[static_cast<size_t>((half[0] * size_[1] + half[1]) * size_[2] + half[2])] = logit(0.95);
    slot.shifts.clear();
    for (int i = 1; i < static_cast<int>(shifts_.size()); ++i) slot.shifts.push_back(i);
    if (o_.shuffle_moves) {
      Random r(draw);
      for (size_t i = slot.shifts.size(); i > 1; --i) std::swap(slot.shifts[i - 1], slot.shifts[static_cast<size_t>(r.integer(0, static_cast<int64_t>(i) - 1))]);
    }
    slot.shifts.insert(slot.shifts.begin(), 0);
  }

  // The next valid shift of a slot, loading new examples as they run out.
  Zyx next_shift(Slot& slot) {
    const float threshold = logit(o_.move_threshold);
    const Zyx half{size_[0] / 2, size_[1] / 2, size_[2] / 2};
    while (true) {
      if (slot.example < 0 || slot.shifts.empty()) load(slot, next_example_++);
      const Zyx s = shifts_[static_cast<size_t>(slot.shifts.front())];
      slot.shifts.erase(slot.shifts.begin());
      const size_t centre = static_cast<size_t>(((half[0] + s[0]) * size_[1] + half[1] + s[1]) * size_[2] + half[2] + s[2]);
      if (slot.seed[centre] >= threshold) return s;
    }
  }

  // Copies the field of view at `shift` of a slot's array into `out` (or back with `write`).
  void window(std::vector<float>& array, const Zyx& shift, float* out, bool write) const {
    const Zyx low{size_[0] / 2 + shift[0] - fov_[0] / 2, size_[1] / 2 + shift[1] - fov_[1] / 2, size_[2] / 2 + shift[2] - fov_[2] / 2};
    for (int64_t z = 0; z < fov_[0]; ++z)
      for (int64_t y = 0; y < fov_[1]; ++y) {
        float* a = &array[static_cast<size_t>(((low[0] + z) * size_[1] + low[1] + y) * size_[2] + low[2])];
        float* b = out + (z * fov_[1] + y) * fov_[2];
        if (write) std::copy_n(b, fov_[2], a);
        else std::copy_n(a, fov_[2], b);
      }
  }

  const ModelDescription& model_;
  const TrainOptions& o_;
  const TrainingData& data_;
  Zyx fov_, deltas_, size_{};
  std::vector<Zyx> shifts_;
  std::vector<Slot> slots_;
  int64_t next_example_ = 0;
};

std::unique_ptr<Optimizer> make_optimizer(const TrainOptions& o, const NamedTensors& parameters) {
  if (o.optimizer == "sgd" || o.optimizer == "momentum")
    return std::make_unique<Sgd>(parameters, SgdParams{.lr = o.learning_rate, .momentum = o.optimizer == "momentum" ? o.momentum : 0.0});
  return std::make_unique<Adam>(parameters, AdamParams{.lr = o.learning_rate, .decoupled = o.optimizer == "adamw"});
}

}  // namespace

void check_fits(const FfnConfig& network, const TrainingData& data) {
  if (data.coordinates.empty()) throw InputError("no training coordinates (run uniem ffn prep first)");
  const Zyx need = network.example_radius();
  for (int a = 0; a < 3; ++a)
    if (data.margin[a] < need[a])
      throw InputError("the prepared margin " + zyx_string(data.margin) + " is smaller than this network's example radius " +
                       zyx_string(need) + " (fov / 2 + deltas); run uniem ffn prep again with --margin " + zyx_string(need) +
                       " or the same network options");
}

TrainResult train(const ModelDescription& m, const TrainOptions& o, const TrainingData& data, const fs::path& folder,
                  bool resume, const Reporter& report) {
  o.check();
  m.network.check("options");
  check_fits(m.network, data);
  FfnModel model(m.network, o.seed);  // drawn on the CPU, the same on every device
  model.to(o.device);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(o, model.parameters());
  Trainer t(m, o, data);
  const fs::path checkpoint = folder / model_checkpoint, log_file = folder / training_log;
  int64_t start = 0;
  if (resume) {
    check_resumable(folder);  // never silently from step 0, over the log
    const Checkpoint c = load_checkpoint(checkpoint, architecture);
    if (c.config != m.network.to_json()) throw InputError(checkpoint, "was saved for another network than model.json describes");
    restore_tensors(checkpoint, "parameter", c.parameters, model.parameters());
    restore_tensors(checkpoint, "optimizer", c.optimizer_state, optimizer->state());
    optimizer->set_steps(c.step);
    start = c.step;
    t.next_example_ = c.extra.value("next_example", int64_t{0});
    const nlohmann::json slots = c.extra.value("slots", nlohmann::json::array());
    if (slots.size() != t.slots_.size() || c.buffers.size() != t.slots_.size())
      throw InputError(checkpoint, "holds " + std::to_string(slots.size()) + " training slots, this run has --batch " +
                       std::to_string(o.batch) + "; resume with the batch size it was trained with");
    for (size_t i = 0; i < t.slots_.size(); ++i) {
      const int64_t e = slots[i].at("example").get<int64_t>();
      if (e >= 0) t.load(t.slots_[i], e);
      t.slots_[i].shifts = slots[i].at("shifts").get<std::vector<int>>();
      const Tensor& seed = c.buffers[i].tensor;
      if (e >= 0) {
        if (seed.numel() != static_cast<int64_t>(t.slots_[i].seed.size())) throw InputError(checkpoint, "corrupt training slot " + std::to_string(i));
        t.slots_[i].seed.assign(seed.data<float>(), seed.data<float>() + seed.numel());
      }
    }
    report("resuming from step " + std::to_string(start) + " (" + checkpoint.string() + ")");
  } else {
    fs::create_directories(folder);
    write_model_description(folder, m);
  }
  TrainingLog log(log_file, start, "ffn train");
  auto save = [&](int64_t step) {
    Checkpoint c;
    c.architecture = architecture;
    c.config = m.network.to_json();
    c.step = step;
    nlohmann::json slots = nlohmann::json::array();
    for (size_t i = 0; i < t.slots_.size(); ++i) {
      const Slot& s = t.slots_[i];
      slots.push_back({{"example", s.example}, {"shifts", s.shifts}});
      c.buffers.push_back({"slot" + std::to_string(i) + ".seed",
                           Tensor::from_vector(s.seed.empty() ? std::vector<float>{0} : s.seed, {std::max<int64_t>(1, static_cast<int64_t>(s.seed.size()))})});
    }
    c.extra = {{"optimizer", optimizer->kind()}, {"learning_rate", optimizer->learning_rate()}, {"seed", o.seed},
               {"next_example", t.next_example_}, {"slots", slots}};
    c.parameters = model.parameters();
    c.optimizer_state = optimizer->state();
    save_checkpoint(checkpoint, c);
  };

  const int64_t b = o.batch, fz = m.network.fov[0], fy = m.network.fov[1], fx = m.network.fov[2], n = fz * fy * fx;
  const float threshold = logit(0.9);
  std::vector<float> image(static_cast<size_t>(b * n)), seed(image.size()), target(image.size());
  std::vector<Zyx> shifts(static_cast<size_t>(b));
  std::vector<float> sample_image, sample_output, sample_target;
  int64_t tp = 0, fp = 0, fn = 0;
  LoopHooks hooks;
  hooks.step = [&](int64_t) {
    for (int64_t i = 0; i < b; ++i) {
      Slot& s = t.slots_[static_cast<size_t>(i)];
      shifts[static_cast<size_t>(i)] = t.next_shift(s);
      t.window(s.image, shifts[static_cast<size_t>(i)], &image[static_cast<size_t>(i * n)], false);
      t.window(s.seed, shifts[static_cast<size_t>(i)], &seed[static_cast<size_t>(i * n)], false);
      t.window(s.target, shifts[static_cast<size_t>(i)], &target[static_cast<size_t>(i * n)], false);
    }
    const Tensor logits = model.forward(Tensor::from_vector(image, {b, 1, fz, fy, fx}, o.device),
                                        Tensor::from_vector(seed, {b, 1, fz, fy, fx}, o.device));
    const Tensor loss = ops::sigmoid_cross_entropy(logits, Tensor::from_vector(target, {b, 1, fz, fy, fx}, o.device));
    const double value = loss.item();
    if (!std::isfinite(value)) return value;
    optimizer->zero_grad();
    loss.backward();
    if (o.clip > 0) clip_grad_value(model.parameters(), o.clip);
    optimizer->step();
    const Tensor host_logits = logits.detach().to(Device::cpu());
    const float* out = host_logits.data<float>();
    for (int64_t i = 0; i < b; ++i) {
      Slot& s = t.slots_[static_cast<size_t>(i)];
      std::copy_n(out + i * n, n, &seed[static_cast<size_t>(i * n)]);
      t.window(s.seed, shifts[static_cast<size_t>(i)], &seed[static_cast<size_t>(i * n)], true);
    }
    {  // the middle section of the first field of view, for the sample picture
      const int64_t plane = fy * fx, at = (fz / 2) * plane;
      sample_image.assign(image.begin() + at, image.begin() + at + plane);
      sample_target.assign(target.begin() + at, target.begin() + at + plane);
      sample_output.resize(static_cast<size_t>(plane));
      for (int64_t i = 0; i < plane; ++i) sample_output[static_cast<size_t>(i)] = 1.0f / (1.0f + std::exp(-out[at + i]));
    }
    for (int64_t i = 0; i < b * n; ++i) {
      const bool predicted = out[i] >= threshold, truth = target[static_cast<size_t>(i)] > 0.5f;
      tp += predicted && truth;
      fp += predicted && !truth;
      fn += !predicted && truth;
    }
    return value;
  };
  hooks.interval_metrics = [&] {  // of the predicted mask at 0.9, over the interval
    const double precision = tp + fp > 0 ? double(tp) / double(tp + fp) : 0, recall = tp + fn > 0 ? double(tp) / double(tp + fn) : 0;
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    tp = fp = fn = 0;
    return nlohmann::json{{"precision", precision}, {"recall", recall}, {"f1", f1}, {"examples", t.next_example_}};
  };
  hooks.describe_metrics = [](const nlohmann::json& m) {
    char text[96];
    std::snprintf(text, sizeof text, "precision %.3f  recall %.3f  F1 %.3f", m["precision"].get<double>(), m["recall"].get<double>(),
                  m["f1"].get<double>());
    return std::string(text);
  };
  hooks.save = [&](int64_t step) {
    save(step);
    if (sample_image.empty()) return;
    const auto [lo, hi] = std::minmax_element(sample_image.begin(), sample_image.end());
    std::vector<float> input(sample_image.size());
    for (size_t i = 0; i < input.size(); ++i) input[i] = *hi > *lo ? (sample_image[i] - *lo) / (*hi - *lo) : 0.5f;
    write_sample_picture(sample_file(folder, step), {input, sample_output, sample_target}, fy, fx, 4);
  };
  hooks.checkpoint = checkpoint;
  LoopSteps steps{.start = start, .steps = o.steps, .log_every = o.log_every, .checkpoint_every = o.checkpoint_every,
                  .validate_every = 0, .items = "voxels", .items_per_step = b * n};
  const LearningRateSchedule lr = LearningRateSchedule::named(o.schedule, o.learning_rate, o.steps);
  const LoopResult loop = run_training_loop(steps, lr, *optimizer, log, hooks, report);
  TrainResult result;
  if (!loop.last_line.is_null()) {
    const nlohmann::json& l = loop.last_line;
    result.loss = l["loss"];
    result.precision = l["precision"];
    result.recall = l["recall"];
    result.f1 = l["f1"];
    result.voxels_per_second = l["voxels_per_second"];
  }
  result.steps = std::max(start, o.steps);
  result.seconds = loop.seconds;
  return result;
}

}  // namespace uniem::nn::ffn
