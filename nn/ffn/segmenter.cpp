#include "nn/ffn/segmenter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <unordered_set>

#include "core/cancel.h"
#include "core/autograd.h"
#include "core/error.h"

namespace uniem::nn::ffn {

namespace {

float logit(double p) { return static_cast<float>(std::log(p / (1 - p))); }
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
void bump(nlohmann::json& counters, const char* name, double by = 1) {
  counters[name] = counters.value(name, 0.0) + by;
}

}  // namespace

nlohmann::json InferenceOptions::to_json() const {
  return {{"init_activation", init_activation}, {"pad_value", pad_value},
          {"move_threshold", move_threshold},   {"segment_threshold", segment_threshold},
          {"min_segment_size", min_segment_size}, {"min_boundary_distance_zyx", min_boundary_distance},
          {"disconnect_threshold", disconnect_threshold},
          {"image_mean", image_mean},           {"image_stddev", image_stddev}};
}

void InferenceOptions::check() const {
  for (const auto& [name, p] : {std::pair{"--init-activation", init_activation}, {"--pad-value", pad_value},
                                {"--move-threshold", move_threshold}, {"--segment-threshold", segment_threshold}})
    if (!(p > 0 && p < 1)) throw UsageError(std::string(name) + " takes a probability strictly between 0 and 1");
  if (min_segment_size < 1) throw UsageError("--min-size must be at least 1 voxel");
  for (int64_t d : min_boundary_distance)
    if (d < 0) throw UsageError("--min-boundary-distance takes non-negative distances");
  if (!(image_stddev > 0)) throw UsageError("--image-stddev must be positive");
  if (!(disconnect_threshold < 1)) throw UsageError("--disconnect-threshold takes a fraction below 1 (negative: off)");
}

Segmenter::Segmenter(const FfnModel& model, const Volume& image, const InferenceOptions& options)
    : model_(model), options_(options), shape_(image.shape()), fov_(model.config().fov), deltas_(model.config().deltas) {
  options_.check();
  if (image.channels() != 1) throw InputError("FFN segmentation needs a grey image, this one has " + std::to_string(image.channels()) + " channels");
  for (int a = 0; a < 3; ++a)
    if (shape_[a] < fov_[a])
      throw InputError("the image (" + zyx_string(shape_, " x ") + ", z,y,x) is smaller than the network's field of view (" +
                       zyx_string(fov_, " x ") + ")");
  image_.resize(static_cast<size_t>(image.voxels()));
  const double scale = 1.0 / options_.image_stddev;
  for (int64_t i = 0; i < image.voxels(); ++i) image_[static_cast<size_t>(i)] = static_cast<float>((image.value(i) - options_.image_mean) * scale);
  canvas_.assign(image_.size(), std::numeric_limits<float>::quiet_NaN());
  init_logit_ = logit(options_.init_activation);
  pad_logit_ = logit(options_.pad_value);
  move_logit_ = logit(options_.move_threshold);
  segment_logit_ = logit(options_.segment_threshold);
}

SegmentationState Segmenter::start() const {
  SegmentationState s;
  s.labels.assign(image_.size(), 0);
  s.probability.assign(image_.size(), 0);
  return s;
}

bool Segmenter::inside_margin(const Zyx& p) const {
  for (int a = 0; a < 3; ++a)
    if (p[a] < fov_[a] / 2 || p[a] >= shape_[a] - fov_[a] / 2) return false;
  return true;
}

void Segmenter::clear_canvas() {
  if (!touched_) return;
  for (int64_t z = touched_low_[0]; z <= touched_high_[0]; ++z)
    for (int64_t y = touched_low_[1]; y <= touched_high_[1]; ++y) {
      float* row = &canvas_[static_cast<size_t>(index({z, y, touched_low_[2]}))];
      std::fill(row, row + (touched_high_[2] - touched_low_[2] + 1), std::numeric_limits<float>::quiet_NaN());
    }
  touched_ = false;
}

void Segmenter::predict(const Zyx& position) {
  const auto begin = std::chrono::steady_clock::now();
  const int64_t fz = fov_[0], fy = fov_[1], fx = fov_[2];
  const Zyx low{position[0] - fz / 2, position[1] - fy / 2, position[2] - fx / 2};
  std::vector<float> image(static_cast<size_t>(fz * fy * fx)), seed(image.size());
  for (int64_t z = 0; z < fz; ++z)
    for (int64_t y = 0; y < fy; ++y) {
      const size_t from = static_cast<size_t>(index({low[0] + z, low[1] + y, low[2]}));
      const size_t to = static_cast<size_t>((z * fy + y) * fx);
      std::copy_n(&image_[from], fx, &image[to]);
      for (int64_t x = 0; x < fx; ++x) {
        const float c = canvas_[from + static_cast<size_t>(x)];
        seed[to + static_cast<size_t>(x)] = std::isnan(c) ? pad_logit_ : c;
      }
    }
  Tensor out;
  {
    NoGradScope no_grad;
    const Device device = model_.device();
    out = model_.forward(Tensor::from_vector(image, {1, 1, fz, fy, fx}, device),
                         Tensor::from_vector(seed, {1, 1, fz, fy, fx}, device))
              .to(Device::cpu());
  }
  const float* logits = out.data<float>();
  const int64_t fov_voxels = fz * fy * fx;
  bool keep_outside = false;  // see InferenceOptions::disconnect_threshold
  if (options_.disconnect_threshold >= 0) {
    const int64_t confident = std::count_if(logits, logits + fov_voxels, [&](float v) { return v >= move_logit_; });
    keep_outside = static_cast<double>(confident) > options_.disconnect_threshold * static_cast<double>(fov_voxels);
  }
  for (int64_t z = 0; z < fz; ++z)
    for (int64_t y = 0; y < fy; ++y) {
      const float* from = logits + (z * fy + y) * fx;
      float* to = &canvas_[static_cast<size_t>(index({low[0] + z, low[1] + y, low[2]}))];
      if (!keep_outside) {
        std::copy_n(from, fx, to);
        continue;
      }
      for (int64_t x = 0; x < fx; ++x)  // NaN (never predicted) compares false: replaced
        if (!(to[x] < 0.0f && from[x] > to[x])) to[x] = from[x];
    }
  const Zyx high{low[0] + fz - 1, low[1] + fy - 1, low[2] + fx - 1};
  for (int a = 0; a < 3; ++a) {
    touched_low_[a] = touched_ ? std::min(touched_low_[a], low[a]) : low[a];
    touched_high_[a] = touched_ ? std::max(touched_high_[a], high[a]) : high[a];
  }
  touched_ = true;

  // The face-maximum movement policy: on each face of the delta box, the best voxel.
  face_moves_.clear();
  const Zyx centre{fz / 2, fy / 2, fx / 2};
  for (int axis = 0; axis < 3; ++axis) {
    if (deltas_[axis] == 0) continue;
    for (const int64_t sign : {-1, 1}) {
      Zyx from{}, to{};
      for (int a = 0; a < 3; ++a) {
        from[a] = centre[a] - deltas_[a];
        to[a] = centre[a] + deltas_[a];
      }
      from[axis] = to[axis] = centre[axis] + sign * deltas_[axis];
      float best = -std::numeric_limits<float>::infinity();
      Zyx where{};
      for (int64_t z = from[0]; z <= to[0]; ++z)
        for (int64_t y = from[1]; y <= to[1]; ++y)
          for (int64_t x = from[2]; x <= to[2]; ++x) {
            const float v = logits[(z * fy + y) * fx + x];
            if (v > best) best = v, where = {z, y, x};
          }
      if (best < move_logit_) continue;
      face_moves_.push_back({best, {position[0] + where[0] - centre[0], position[1] + where[1] - centre[1],
                                    position[2] + where[2] - centre[2]}});
    }
  }
  ++predictions_;
  predict_seconds_ += seconds_since(begin);
  if (progress_) progress_(0);
}

int64_t Segmenter::fill(const Zyx& seed, const SegmentationState& state) {
  clear_canvas();
  canvas_[static_cast<size_t>(index(seed))] = init_logit_;
  touched_low_ = touched_high_ = seed;
  touched_ = true;
  std::deque<Zyx> queue{seed};
  std::unordered_set<int64_t> visited;
  // The lattice cell of a position: positions relative to the seed, shifted by half a delta so
  // that the seed lies in the middle of its cell and every direction is treated alike.
  const auto lattice = [&](const Zyx& p) {
    int64_t key = 0;
    for (int a = 0; a < 3; ++a) {
      const int64_t d = std::max<int64_t>(deltas_[a], 1), r = p[a] - seed[a] + deltas_[a] / 2;
      key = key * (2 * shape_[a] + 1) + shape_[a] + (r >= 0 ? r / d : -((-r + d - 1) / d));  // floor division
    }
    return key;
  };
  int64_t moves = 0;
  while (!queue.empty()) {
    const Zyx p = queue.front();
    queue.pop_front();
    const int64_t cell = lattice(p);
    if (visited.count(cell) || !inside_margin(p)) continue;
    const size_t i = static_cast<size_t>(index(p));
    if (canvas_[i] < move_logit_ || state.labels[i] > 0) continue;
    if (canvas_[static_cast<size_t>(index(seed))] < move_logit_) break;  // the seed got too weak
    visited.insert(cell);
    predict(p);
    ++moves;
    // This prediction's face maxima join the back of the queue, the most probable first.
    std::stable_sort(face_moves_.begin(), face_moves_.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& move : face_moves_)
      if (!visited.count(lattice(move.second))) queue.push_back(move.second);
  }
  return moves;
}

void Segmenter::run(const std::vector<Zyx>& seeds, SegmentationState& state, double checkpoint_seconds,
                    const std::function<void(const SegmentationState&)>& checkpoint,
                    const std::function<void(int64_t)>& progress, int64_t max_seeds) {
  progress_ = progress;
  nlohmann::json& c = state.counters;
  auto last_checkpoint = std::chrono::steady_clock::now();
  const Zyx& mbd = options_.min_boundary_distance;
  const size_t end = max_seeds < 0 ? seeds.size() : std::min(seeds.size(), static_cast<size_t>(state.next_seed + max_seeds));
  for (size_t s = static_cast<size_t>(state.next_seed); s < end; ++s) {
    if (cancel_requested()) break;  // a seed boundary: the state is whole, the caller saves it
    if (checkpoint && checkpoint_seconds > 0 && seconds_since(last_checkpoint) >= checkpoint_seconds) {
      checkpoint(state);
      last_checkpoint = std::chrono::steady_clock::now();
    }
    const auto begin = std::chrono::steady_clock::now();
    predictions_ = 0;
    predict_seconds_ = 0;
    const Zyx& p = seeds[s];
    state.next_seed = static_cast<int64_t>(s) + 1;
    bump(c, "seeds_tried");
    const auto finish = [&] {
      bump(c, "predictions", static_cast<double>(predictions_));
      bump(c, "predict_seconds", predict_seconds_);
      bump(c, "segment_seconds", seconds_since(begin));
      if (progress) progress(1);
    };
    if (!inside_margin(p) || state.labels[static_cast<size_t>(index(p))] > 0) {
      bump(c, "seed_invalid_position");
      finish();
      continue;
    }
    bool close = false;
    for (int64_t z = std::max<int64_t>(p[0] - mbd[0], 0); z <= std::min(p[0] + mbd[0], shape_[0] - 1) && !close; ++z)
      for (int64_t y = std::max<int64_t>(p[1] - mbd[1], 0); y <= std::min(p[1] + mbd[1], shape_[1] - 1) && !close; ++y)
        for (int64_t x = std::max<int64_t>(p[2] - mbd[2], 0); x <= std::min(p[2] + mbd[2], shape_[2] - 1); ++x)
          if (state.labels[static_cast<size_t>(index({z, y, x}))] > 0) {
            close = true;
            break;
          }
    if (close) {
      bump(c, "seed_too_close");
      finish();
      continue;
    }
    const int64_t moves = fill(p, state);
    int32_t& at_seed = state.labels[static_cast<size_t>(index(p))];
    if (moves == 0 || canvas_[static_cast<size_t>(index(p))] < move_logit_) {
      if (at_seed == 0) at_seed = -1;
      bump(c, "seed_too_weak");
      finish();
      continue;
    }
    // Accept the voxels above the segment threshold that no earlier object holds.
    int64_t raw = 0, free = 0;
    for (int64_t z = touched_low_[0]; z <= touched_high_[0]; ++z)
      for (int64_t y = touched_low_[1]; y <= touched_high_[1]; ++y)
        for (int64_t x = touched_low_[2]; x <= touched_high_[2]; ++x) {
          const size_t i = static_cast<size_t>(index({z, y, x}));
          if (canvas_[i] >= segment_logit_) {
            ++raw;
            if (state.labels[i] <= 0) ++free;
          }
        }
    if (free < options_.min_segment_size) {
      if (at_seed == 0) at_seed = -1;
      bump(c, "segment_too_small");
      finish();
      continue;
    }
    const int32_t id = ++state.max_id;
    for (int64_t z = touched_low_[0]; z <= touched_high_[0]; ++z)
      for (int64_t y = touched_low_[1]; y <= touched_high_[1]; ++y)
        for (int64_t x = touched_low_[2]; x <= touched_high_[2]; ++x) {
          const size_t i = static_cast<size_t>(index({z, y, x}));
          if (canvas_[i] >= segment_logit_ && state.labels[i] <= 0) {
            state.labels[i] = id;
            state.probability[i] = static_cast<uint8_t>(std::lround(255.0 / (1.0 + std::exp(-double(canvas_[i])))));
          }
        }
    bump(c, "segments");
    bump(c, "voxels_segmented", static_cast<double>(free));
    bump(c, "voxels_overlapping", static_cast<double>(raw - free));
    finish();
    state.segments.push_back({{"id", id}, {"seed_zyx", p}, {"moves", moves}, {"voxels", free},
                              {"seconds", seconds_since(begin)}});
  }
}

}  // namespace uniem::nn::ffn
