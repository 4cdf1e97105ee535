// uniem ffn: the flood-filling network workflow (nn/ffn/). This file holds the import-tf, segment
// and export steps; prep and train are in cmd_ffn_train.cpp (apps/dispatch.cpp finds the step).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "apps/compute_device.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "nn/ffn/segmentation_output.h"
#include "apps/stack_options.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/atomic_output.h"
#include "io/stack.h"
#include "nn/ffn/import_tf.h"
#include "nn/ffn/model_folder.h"
#include "nn/ffn/seeds.h"

namespace fs = std::filesystem;

namespace uniem::apps {

namespace {
using nn::ffn::Zyx;
using nn::ffn::load_state;
using nn::ffn::save_state;
using nn::ffn::state_path;
using nn::ffn::write_segmentation;
}  // namespace

cli::Command ffn_import_tf_command() {
  cli::Command command(
      "ffn import-tf", "turn a TensorFlow FFN checkpoint into a uniem model folder",
      "Reads a TensorFlow 1 checkpoint of the convstack_3d flood-filling network (the files\n"
      "PREFIX.index and PREFIX.data-00000-of-00001, as published with the FFN paper and used by\n"
      "UNI-EM) without TensorFlow, and writes MODEL_DIR for uniem ffn segment. The depth and the\n"
      "number of filters are read from the checkpoint; the field of view and the deltas are not\n"
      "stored in it: they come from --preset (by default the one whose depth matches: 12 ->\n"
      "isotropic 33x33x33 / 8,8,8; 9 -> sparse-z 17x33x33 / 4,8,8) or --fov and --deltas, all in\n"
      "z,y,x order (upstream's configuration files write x,y,z). --image-mean and --image-stddev\n"
      "are the normalisation the model was trained with (upstream FIB-25: 128 and 33).",
      "  uniem ffn import-tf ../shared/models/ffn-fib25/model.ckpt-27465036 fib25-model");
  command.positional("CHECKPOINT", "checkpoint prefix, its .index file, or a folder with one checkpoint").input()
      .positional("MODEL_DIR", "model folder to create").output()
      .option("preset", "NAME", "isotropic or sparse-z (default: by the checkpoint's depth)")
      .choices({"isotropic", "sparse-z"})
      .option("fov", "Z,Y,X", "field of view instead of the preset's").unit("voxels").advanced()
      .option("deltas", "Z,Y,X", "movement step instead of the preset's").unit("voxels").advanced()
      .option("image-mean", "M", "image mean used in training", "128").number().advanced()
      .option("image-stddev", "S", "image standard deviation used in training", "33").number(0, {}).advanced()
      .flag("overwrite", "replace MODEL_DIR if it exists");
  return command;
}

int run_ffn_import_tf(const cli::Args& args) {
  const fs::path checkpoint = args.positional(0), folder = args.positional(1);
  AtomicOutput::check(folder, AtomicOutput::Kind::folder, args.has("overwrite"));
  const auto tf = read_tf_checkpoint(checkpoint);
  const nn::ffn::ImportedWeights w = nn::ffn::convert_convstack(tf, checkpoint.string());
  nn::ffn::ModelDescription d;
  const std::string preset = args.has("preset") ? args.get("preset") : w.depth == 9 ? "sparse-z" : "isotropic";
  d.network = nn::ffn::FfnConfig::preset(preset);
  d.network.depth = w.depth;
  d.network.filters = w.filters;
  if (args.has("fov")) d.network.fov = args.zyx("fov");
  if (args.has("deltas")) d.network.deltas = args.zyx("deltas");
  d.network.check("options");
  d.image_mean = args.number("image-mean");
  d.image_stddev = args.number("image-stddev");
  if (!(d.image_stddev > 0)) throw UsageError("--image-stddev must be positive");
  d.source = {{"tensorflow_checkpoint", fs::absolute(checkpoint).string()}, {"global_step", w.step}, {"preset", preset}};
  nn::ffn::FfnModel model(d.network, 0);
  Checkpoint c;
  c.architecture = nn::ffn::architecture;
  c.config = d.network.to_json();
  c.step = 0;
  c.extra = {{"imported_from", fs::absolute(checkpoint).string()}, {"tensorflow_step", w.step}};
  for (const auto& [name, t] : model.parameters()) {
    const Tensor& v = w.tensors.at(name);
    if (!(v.shape() == t.shape())) throw Error("ffn import-tf: " + name + " converted to " + describe(v) + ", the model has " + describe(t));
    c.parameters.push_back({name, v});
  }
  AtomicOutput out(folder, AtomicOutput::Kind::folder, args.has("overwrite"));
  nn::ffn::write_model_description(out.temporary(), d);
  save_checkpoint(out.temporary() / nn::ffn::model_checkpoint, c);
  out.commit();
  std::printf("imported %s (TensorFlow step %lld, %zu tensors) -> %s\n", d.network.describe().c_str(),
              static_cast<long long>(w.step), c.parameters.size(), folder.c_str());
  return 0;
}

cli::Command ffn_segment_command() {
  cli::Command command(
      "ffn segment", "segment neurons in 3D with a flood-filling network",
      "Grows one object at a time from seed points with the network in MODEL (from uniem ffn\n"
      "train or uniem ffn import-tf), as the FFN paper's inference does, and writes to OUT:\n"
      "  labels/ (16-bit PNG) or labels.tif (32-bit, when there are more than 65535 objects or\n"
      "          with --bits 32): the objects, 0 = unsegmented\n"
      "  colour/         a colour per object, for a quick look\n"
      "  probabilities/  the network's probability for each object voxel (8-bit)\n"
      "  segmentation.json  options, counters (predictions, seeds tried and why they failed,\n"
      "                  voxels, time per phase) and every object's seed, moves and size\n"
      "Seeds come from --seeds peaks (centres of cells found from the image edges; upstream's\n"
      "default) or grid (every --grid-step voxels). All sizes are z,y,x. The state is saved to\n"
      "OUT.ffn-state every --checkpoint-interval seconds; running the same command again resumes\n"
      "from it (--restart starts over); it is removed when OUT is complete.",
      "  uniem ffn segment --model fib25-model --images medulla/image --out medulla-ffn --crop 0,0,0,100,100,100");
  command.option("model", "DIR", "FFN model folder").input().required()
      .option("images", "STACK", "EM volume: folder of PNG/TIFF or a multi-page TIFF").input().required()
      .option("out", "DIR", "output folder (new or empty)").output().required()
      .option("crop", "Z,Y,X,DZ,DY,DX", "segment only this box: origin and size").unit("voxels")
      .option("seeds", "POLICY", "peaks or grid", "peaks").choices({"peaks", "grid"})
      .option("grid-step", "Z,Y,X", "grid seeds: spacing", "16,16,16").unit("voxels").advanced()
      .option("init-activation", "P", "probability of the seed voxel at the start", "0.95").number(0, 1).advanced()
      .option("pad-value", "P", "probability assumed where nothing was predicted yet", "0.05").number(0, 1).advanced()
      .option("move-threshold", "P", "probability needed to move the field of view there", "0.9")
      .number(0, 1)
      .advanced()
      .option("segment-threshold", "P", "probability needed for a voxel to join the object", "0.6").number(0, 1)
      .option("min-size", "VOXELS", "smaller objects are dropped", "1000").integer(1, {}).unit("voxels")
      .option("min-boundary-distance", "Z,Y,X", "seeds this close to an object are skipped", "1,1,1")
      .unit("voxels")
      .advanced()
      .option("disconnect-threshold", "F",
              "when more than this fraction of a prediction is above --move-threshold, voxels already "
              "judged outside the object (< 0.5) cannot rise again: fewer merges, more splits "
              "(upstream's disco_seed_threshold; negative: off)", "-1")
      .number({}, 1)
      .advanced()
      .option("image-mean", "M", "image normalisation (default: the model's)").number().advanced()
      .option("image-stddev", "S", "image normalisation (default: the model's)").number(0, {}).advanced()
      .option("bits", "N", "label image depth: 16 or 32 (default: 16 when the ids fit)").choices({"16", "32"})
      .option("checkpoint-interval", "SECONDS", "save the state for resuming this often (0: never)", "600")
      .number(0, {})
      .unit("s")
      .advanced()
      .option("max-seeds", "N", "try at most N seeds in this run, then save the state and stop (run again to go on)")
      .integer(1, {})
      .advanced()
      .flag("restart", "ignore a saved state and start over")
      .flag("overwrite", "replace OUT if it exists");
  add_device_options(command);
  return command;
}

int run_ffn_segment(const cli::Args& args) {
  const std::string policy = args.get("seeds");
  const int bits = args.has("bits") ? static_cast<int>(args.integer("bits")) : 0;
  const fs::path out_dir = args.get("out");
  AtomicOutput::check(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));

  const nn::ffn::LoadedModel loaded = nn::ffn::load_model(args.get("model"));
  nn::ffn::InferenceOptions o;
  o.init_activation = args.number("init-activation");
  o.pad_value = args.number("pad-value");
  o.move_threshold = args.number("move-threshold");
  o.segment_threshold = args.number("segment-threshold");
  o.min_segment_size = args.integer("min-size");
  o.min_boundary_distance = args.zyx("min-boundary-distance");
  o.disconnect_threshold = args.number("disconnect-threshold");
  o.image_mean = args.has("image-mean") ? args.number("image-mean") : loaded.description.image_mean;
  o.image_stddev = args.has("image-stddev") ? args.number("image-stddev") : loaded.description.image_stddev;
  o.check();
  const Volume image = apply_crop(args, read_volume(args.get("images")), args.get("images"));
  const nn::ffn::FfnConfig& net = loaded.description.network;
  nn::ffn::Segmenter segmenter(*loaded.model, image, o);
  loaded.model->to(choose_device(args));  // once the inputs are known to be good

  const auto begin = std::chrono::steady_clock::now();
  const std::vector<Zyx> seeds = policy == "peaks" ? nn::ffn::peak_seeds(image)
                                                   : nn::ffn::grid_seeds(image.shape(), args.zyx("grid-step"),
                                                                         {net.fov[0] / 2, net.fov[1] / 2, net.fov[2] / 2});
  const double seed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  const nlohmann::json run = {{"model", fs::absolute(args.get("model")).string()},
                              {"images", fs::absolute(args.get("images")).string()},
                              {"crop", args.has("crop") ? args.get("crop") : ""},
                              {"shape_zyx", image.shape()},
                              {"network", net.to_json()},
                              {"options", o.to_json()},
                              {"seeds", policy},
                              {"seed_count", seeds.size()}};
  const fs::path state_file = state_path(out_dir);
  nn::ffn::SegmentationState state = segmenter.start();
  if (fs::exists(state_file) && !args.has("restart")) {
    nlohmann::json saved;
    state = load_state(state_file, &saved);
    if (saved != run)
      throw InputError(state_file.string() + ": a saved state of a different run (model, images, crop or options differ); "
                       "run with --restart to start over, or delete it");
    std::printf("resuming from %s: %lld of %zu seeds done, %d objects\n", state_file.c_str(),
                static_cast<long long>(state.next_seed), seeds.size(), state.max_id);
  }
  std::printf("uniem ffn segment: %s on %lld x %lld x %lld voxels (z,y,x), %zu %s seeds (%.1f s)\n",
              net.describe().c_str(), static_cast<long long>(image.nz()), static_cast<long long>(image.ny()),
              static_cast<long long>(image.nx()), seeds.size(), policy.c_str(), seed_seconds);
  std::fflush(stdout);
  const int64_t max_seeds = args.has("max-seeds") ? args.integer("max-seeds") : -1;
  {
    Progress progress("ffn segment", static_cast<int64_t>(seeds.size()) - state.next_seed);
    segmenter.run(seeds, state, args.number("checkpoint-interval"),
                  [&](const nn::ffn::SegmentationState& s) { save_state(state_file, s, run); },
                  // Not a safe point here: the segmenter stops at the next seed when cancelling.
                  [&](int64_t seeds) { if (!cancel_requested()) progress.advance(seeds); }, max_seeds);
  }
  if (state.next_seed < static_cast<int64_t>(seeds.size())) {
    save_state(state_file, state, run);
    if (cancel_requested())
      throw Cancelled("stopped after seed " + std::to_string(state.next_seed) + " of " + std::to_string(seeds.size()) + "; state saved to " +
                      state_file.string() + ": run the same command again to continue");
    std::printf("stopped after seed %lld of %zu (%d objects so far); state saved to %s: run the same command again to "
                "continue, or uniem ffn export it\n",
                static_cast<long long>(state.next_seed), seeds.size(), state.max_id, state_file.c_str());
    return 0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  state.counters["seed_policy_seconds"] = seed_seconds;
  AtomicOutput out(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));
  nlohmann::json record = run;
  record["written"] = write_segmentation(out.temporary(), state, image.shape(), image.voxel_size, bits);
  record["counters"] = state.counters;
  record["seconds"] = seconds;
  record["segments"] = state.segments;
  write_file(out.temporary() / "segmentation.json", record.dump(1) + "\n");
  out.commit();
  std::error_code ignored;
  fs::remove(state_file, ignored);
  const nlohmann::json& c = state.counters;
  std::printf("%d objects, %.0f voxels segmented, %.0f predictions, %.0f seeds tried in %.1f s -> %s\n", state.max_id,
              c.value("voxels_segmented", 0.0), c.value("predictions", 0.0), c.value("seeds_tried", 0.0), seconds,
              out_dir.c_str());
  return 0;
}

cli::Command ffn_export_command() {
  cli::Command command(
      "ffn export", "write the objects of an interrupted ffn segment run as label images",
      "uniem ffn segment saves its state to OUT.ffn-state while it runs. This writes the objects\n"
      "found so far into a new folder, the same files segment writes (labels, colour,\n"
      "probabilities, segmentation.json), for a look or for proofreading before it finishes.",
      "  uniem ffn export medulla-ffn.ffn-state medulla-partial");
  command.positional("STATE", "the .ffn-state file").input()
      .positional("OUT", "output folder (new or empty)").output()
      .option("bits", "N", "label image depth: 16 or 32 (default: 16 when the ids fit)").choices({"16", "32"})
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_ffn_export(const cli::Args& args) {
  const int bits = args.has("bits") ? static_cast<int>(args.integer("bits")) : 0;
  const fs::path out_dir = args.positional(1);
  AtomicOutput::check(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));
  nlohmann::json run;
  const nn::ffn::SegmentationState state = load_state(args.positional(0), &run);
  const auto shape = run.value("shape_zyx", std::array<int64_t, 3>{0, 0, 0});
  if (shape[0] * shape[1] * shape[2] != static_cast<int64_t>(state.labels.size()))
    throw InputError(args.positional(0) + ": its shape does not match its labels");
  AtomicOutput out(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));
  run["written"] = write_segmentation(out.temporary(), state, shape, {}, bits);
  run["counters"] = state.counters;
  run["segments"] = state.segments;
  run["complete"] = false;
  write_file(out.temporary() / "segmentation.json", run.dump(1) + "\n");
  out.commit();
  std::printf("%d objects (seeds %lld of %lld done) -> %s\n", state.max_id, static_cast<long long>(state.next_seed),
              static_cast<long long>(run.value("seed_count", 0)), out_dir.c_str());
  return 0;
}

}  // namespace uniem::apps
