// FFN inference: flood-filling one object at a time from seeds, as upstream's Canvas does.
//
// For each seed (in order) that lies at least fov/2 from the border, is not inside an accepted
// object, and has no accepted voxel within min_boundary_distance: the canvas of logits is empty
// (pad_value) except the seed voxel (init_activation); the network runs on the field of view
// around the current position and its output logits replace the canvas there; on each of the 6
// faces of the delta box around the position, the most probable voxel, if at least
// move_threshold, joins the back of a queue (the six of one prediction most probable first).
// Positions are taken from the front, skipping those whose lattice cell (offset from the seed
// plus half a delta, divided by the deltas) was visited, that are too near the border, inside
// an accepted object, or whose canvas probability is below move_threshold. The
// object is dropped when the seed's own probability falls below move_threshold. Afterwards,
// voxels with probability >= segment_threshold that no earlier object holds become the new
// object if there are at least min_segment_size of them; otherwise the seed voxel is marked
// excluded. Probabilities are compared as logits, exactly. With disconnect_threshold, see there.
//
// The state (labels, probabilities, the next seed, counters) can be saved and restored, so an
// interrupted run continues where it stopped with the same result.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/image/volume.h"
#include "nn/ffn/model.h"

namespace uniem::nn::ffn {

struct InferenceOptions {
  double init_activation = 0.95;
  double pad_value = 0.05;
  double move_threshold = 0.9;
  double segment_threshold = 0.6;
  int64_t min_segment_size = 1000;
  Zyx min_boundary_distance{1, 1, 1};
  // Off when negative. Otherwise, once more than this fraction of a prediction's field of view
  // is at least move_threshold, canvas voxels already below probability 0.5 keep their value
  // where the new prediction is higher: a region once judged outside the object cannot be
  // flooded later from another side (upstream's disco_seed_threshold; it favours splits over
  // merges).
  double disconnect_threshold = -1;
  double image_mean = 128, image_stddev = 33;
  nlohmann::json to_json() const;
  void check() const;  // throws UsageError for probabilities outside (0, 1) and the like
};

struct SegmentationState {
  std::vector<int32_t> labels;      // per voxel: object id > 0, 0 none, -1 a seed that failed
  std::vector<uint8_t> probability; // per voxel of an object: its probability x 255
  int64_t next_seed = 0;            // index into the seed list
  int32_t max_id = 0;
  nlohmann::json counters = nlohmann::json::object();
  nlohmann::json segments = nlohmann::json::array();  // {"id", "seed_zyx", "moves", "voxels", "seconds"}
};

class Segmenter {
 public:
  // `image` is any grey volume; it is normalised with the options' mean and stddev.
  Segmenter(const FfnModel& model, const Volume& image, const InferenceOptions& options);

  SegmentationState start() const;  // an empty state for this volume
  // Runs seeds[state.next_seed ...], at most max_seeds of them (all when < 0); `checkpoint` is
  // called with the state every checkpoint_seconds (never, when <= 0) between seeds; `progress`
  // with 1 after each seed and with 0 after each prediction (a large object takes minutes).
  void run(const std::vector<Zyx>& seeds, SegmentationState& state, double checkpoint_seconds = 0,
           const std::function<void(const SegmentationState&)>& checkpoint = {},
           const std::function<void(int64_t)>& progress = {}, int64_t max_seeds = -1);

  // Flood-fills one object from `seed` on an empty canvas; returns the number of network
  // predictions, 0 when the object was dropped (the seed got too weak). The canvas keeps the
  // result until the next call; canvas_logit() reads it (NaN where nothing was predicted).
  int64_t fill(const Zyx& seed, const SegmentationState& state);
  float canvas_logit(const Zyx& p) const { return canvas_[index(p)]; }

 private:
  int64_t index(const Zyx& p) const { return (p[0] * shape_[1] + p[1]) * shape_[2] + p[2]; }
  bool inside_margin(const Zyx& p) const;
  void predict(const Zyx& position);
  void clear_canvas();

  const FfnModel& model_;
  InferenceOptions options_;
  Zyx shape_, fov_, deltas_;
  std::vector<float> image_, canvas_;
  float init_logit_, pad_logit_, move_logit_, segment_logit_;
  Zyx touched_low_{}, touched_high_{};  // the canvas region written since the last clear
  bool touched_ = false;
  // Counters of the current run (added to the state's).
  int64_t predictions_ = 0;
  double predict_seconds_ = 0;
  std::vector<std::pair<float, Zyx>> face_moves_;
  std::function<void(int64_t)> progress_;
};

}  // namespace uniem::nn::ffn
