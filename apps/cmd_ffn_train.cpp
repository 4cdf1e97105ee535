// uniem ffn prep and uniem ffn train: training data and training of the flood-filling network.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/compute_device.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "core/error.h"
#include "core/image/statistics.h"
#include "io/atomic_output.h"
#include "io/checkpoint.h"
#include "io/stack.h"
#include "nn/ffn/trainer.h"

namespace fs = std::filesystem;

namespace uniem::apps {

namespace {

using nn::ffn::Zyx;

constexpr const char* prep_format = "uniem-ffn-prep";
constexpr const char* coordinates_file = "coordinates.data";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// The network options shared by prep (for its defaults) and train.
void network_options(cli::Command& c) {
  c.option("preset", "NAME", "isotropic (depth 12, FOV 33x33x33, deltas 8,8,8; FIB-SEM) or sparse-z (depth 9, "
                             "FOV 17x33x33, deltas 4,8,8; serial sections)", "isotropic")
      .choices({"isotropic", "sparse-z"})
      .option("depth", "N", "network depth instead of the preset's").integer(1, 64).advanced()
      .option("filters", "N", "filters per convolution", "32").integer(1, 1024).advanced()
      .option("fov", "Z,Y,X", "field of view instead of the preset's (odd sizes)").unit("voxels").advanced()
      .option("deltas", "Z,Y,X", "movement step instead of the preset's").unit("voxels").advanced();
}

nn::ffn::FfnConfig network_from(const cli::Args& args) {
  nn::ffn::FfnConfig c = nn::ffn::FfnConfig::preset(args.get("preset"));
  if (args.has("depth")) c.depth = args.integer("depth");
  c.filters = args.integer("filters");
  if (args.has("fov")) c.fov = args.zyx("fov");
  if (args.has("deltas")) c.deltas = args.zyx("deltas");
  try {
    c.check("options");
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  return c;
}

}  // namespace

cli::Command ffn_prep_command() {
  cli::Command command(
      "ffn prep", "prepare FFN training data from EM volumes and their neuron ground truth",
      "For each voxel of the ground truth, the fraction of its surrounding box that belongs to\n"
      "the same object is binned into classes (thin processes and object borders low, cell\n"
      "interiors high); training coordinates are then drawn equally from every class, so the\n"
      "network sees as many hard places as easy ones. Objects under --min-size voxels are\n"
      "dropped. The box radius and the margin kept from the borders default to what the network\n"
      "needs (field of view / 2 + deltas, per axis, from --preset, --fov and --deltas), so a\n"
      "sparse-z network keeps more of a thin stack. Several volumes: comma-separated lists of the\n"
      "same length. OUT gets prep.json (with the images' mean and standard deviation), the\n"
      "coordinates, and classes-N/ (the class per voxel, PNG, to look at).",
      "  uniem ffn prep --images fib/train/image --labels fib/train/label --out fib-prep --min-size 1000");
  command.option("images", "STACK[,STACK...]", "EM volumes").input().required()
      .option("labels", "STACK[,STACK...]", "neuron ground truth, one id per object, 0 = none").input().required()
      .option("out", "DIR", "output folder (new or empty)").output().required();
  network_options(command);
  command.option("radius", "Z,Y,X", "object-mask box radius (default: fov / 2 + deltas)").unit("voxels").advanced()
      .option("margin", "Z,Y,X", "no coordinates this close to a border (default: fov / 2 + deltas)")
      .unit("voxels")
      .advanced()
      .option("thresholds", "T1,T2,...", "class boundaries of the object fraction",
              "0.025,0.05,0.075,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9")
      .advanced()
      .option("min-size", "VOXELS", "objects smaller than this are dropped", "10000").integer(0, {}).unit("voxels")
      .option("max-coordinates", "N", "at most this many coordinates in all", "1000000").integer(1, {}).advanced()
      .option("seed", "N", "random seed for the sampling", "1").integer(0, {})
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_ffn_prep(const cli::Args& args) {
  const auto images = split_list(args.get("images")), labels = split_list(args.get("labels"));
  if (images.size() != labels.size() || images.empty())
    throw UsageError("--images and --labels need the same number of volumes (" + std::to_string(images.size()) + " and " +
                     std::to_string(labels.size()) + ")");
  const nn::ffn::FfnConfig net = network_from(args);
  nn::ffn::PrepOptions o;
  o.radius = args.has("radius") ? args.zyx("radius") : net.example_radius();
  o.margin = args.has("margin") ? args.zyx("margin") : net.example_radius();
  o.thresholds.clear();
  for (const std::string& t : split_list(args.get("thresholds"))) {
    try {
      o.thresholds.push_back(std::stod(t));
    } catch (const std::exception&) {
      throw UsageError("--thresholds takes numbers separated by commas, not '" + args.get("thresholds") + "'");
    }
  }
  if (o.thresholds.empty() || o.thresholds.size() > 250 || !std::is_sorted(o.thresholds.begin(), o.thresholds.end()))
    throw UsageError("--thresholds takes 1 to 250 increasing numbers");
  o.min_size = args.integer("min-size");
  o.max_coordinates = args.integer("max-coordinates");
  o.seed = static_cast<uint64_t>(args.integer("seed"));
  const fs::path out_dir = args.get("out");
  AtomicOutput::check(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));

  std::vector<Volume> classes;
  nlohmann::json volumes = nlohmann::json::array();
  double sum = 0, sum2 = 0, count = 0;
  for (size_t v = 0; v < images.size(); ++v) {
    const Volume image = read_volume(images[v]);
    const Volume label = read_volume(labels[v]);
    if (image.shape() != label.shape())
      throw InputError(labels[v] + ": its shape " + nn::ffn::zyx_string(label.shape(), " x ") + " differs from the images' " +
                       nn::ffn::zyx_string(image.shape(), " x ") + " (" + images[v] + ")");
    if (image.channels() != 1) throw InputError(images[v] + ": FFN training needs grey images");
    classes.push_back(nn::ffn::object_mask_classes(label, o, labels[v]));
    for (int64_t i = 0; i < image.voxels(); ++i) {
      const double x = image.value(i);
      sum += x, sum2 += x * x;
    }
    count += static_cast<double>(image.voxels());
    volumes.push_back({{"images", fs::absolute(images[v]).string()}, {"labels", fs::absolute(labels[v]).string()},
                       {"shape_zyx", image.shape()}, {"dtype", dtype_name(image.dtype())}});
  }
  const nn::ffn::Coordinates c = nn::ffn::sample_coordinates(classes, o);
  if (c.coordinates.empty())
    throw InputError("no voxel lies --margin " + nn::ffn::zyx_string(o.margin) + " away from the borders of the volumes; " +
                     "use larger volumes or a smaller network");
  const double mean = sum / count, stddev = std::sqrt(std::max(sum2 / count - mean * mean, 1e-12));
  const nlohmann::json record = {{"format", prep_format},
                                 {"version", 1},
                                 {"volumes", volumes},
                                 {"network", net.to_json()},
                                 {"radius_zyx", o.radius},
                                 {"margin_zyx", o.margin},
                                 {"thresholds", o.thresholds},
                                 {"min_size", o.min_size},
                                 {"seed", o.seed},
                                 {"image_mean", mean},
                                 {"image_stddev", stddev},
                                 {"class_voxels", c.class_voxels},
                                 {"coordinates", c.coordinates.size()}};
  AtomicOutput out(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));
  std::vector<int32_t> flat;
  flat.reserve(c.coordinates.size() * 4);
  for (const auto& p : c.coordinates) flat.insert(flat.end(), {p.volume, p.z, p.y, p.x});
  Checkpoint file;
  file.architecture = "ffn-coordinates";
  file.parameters.push_back({"coordinates", Tensor::from_vector(flat, {static_cast<int64_t>(c.coordinates.size()), 4})});
  save_checkpoint(out.temporary() / coordinates_file, file);
  for (size_t v = 0; v < classes.size(); ++v) write_volume(out.temporary() / ("classes-" + std::to_string(v)), classes[v], {});
  write_file(out.temporary() / "prep.json", record.dump(2) + "\n");
  out.commit();
  std::printf("%zu volume(s): %zu training coordinates over %zu classes (voxels per class:", images.size(), c.coordinates.size(),
              c.class_voxels.size());
  for (int64_t k : c.class_voxels) std::printf(" %lld", static_cast<long long>(k));
  std::printf("); image mean %.1f, stddev %.1f -> %s\n", mean, stddev, out_dir.c_str());
  return 0;
}

cli::Command ffn_train_command() {
  cli::Command command(
      "ffn train", "train a flood-filling network on prepared data",
      "Trains the FFN on the volumes and coordinates made by uniem ffn prep, into MODEL (a folder:\n"
      "model.json, model.checkpoint every --checkpoint-every steps, training-log.jsonl with loss,\n"
      "precision, recall and F1 of the predicted mask at 0.9, and voxels/s). Each step moves the\n"
      "field of view of --batch examples once and learns from the network's own predictions, as\n"
      "the FFN paper trains. Defaults are upstream's: plain SGD, learning rate 0.001, gradient\n"
      "elements clipped to 0.7, batch 4; FFNs need many steps (the published FIB-25 model had\n"
      "27 million), a GPU helps. --resume continues a stopped run exactly.\n"
      "A network of depth D sees 4D+1 voxels per axis; a --fov wider than that leaves its outer\n"
      "voxels blind to the centre and the flood crosses membranes (the presets fit: depth 12\n"
      "sees 49, depth 9 sees 37). A small network for a quick test: --depth 2 --fov 5,9,9.",
      "  uniem ffn train --prep fib-prep --model fib-ffn --preset isotropic --steps 100000\n"
      "  uniem ffn train --prep fib-prep --model fib-ffn --steps 200000 --resume");
  command.option("prep", "DIR", "folder made by uniem ffn prep").input().required()
      .option("model", "DIR", "model folder to create or continue").output().required();
  network_options(command);
  command.option("batch", "N", "examples per step", "4").integer(1, {})
      .option("steps", "N", "optimizer steps in total", "10000").integer(1, {}).unit("steps")
      .option("optimizer", "NAME", "sgd, momentum (SGD with momentum 0.9), adam or adamw", "sgd")
      .choices({"sgd", "momentum", "adam", "adamw"})
      .advanced()
      .option("learning-rate", "LR", "step size", "0.001").number(0, {})
      .option("schedule", "NAME", "learning rate over the steps: constant (upstream), cosine (down to 0 at the last step; steadier final models) or step (x0.1 every third)", "constant")
      .choices({"constant", "cosine", "step"})
      .advanced()
      .option("clip", "C", "clip each gradient element to +-C; 0 turns it off", "0.7").number(0, {}).advanced()
      .option("move-threshold", "P", "the field of view moves where the probability reaches P", "0.9")
      .number(0, 1)
      .advanced()
      .flag("no-shuffle-moves", "visit the 26 shifts in a fixed order").advanced()
      .flag("no-augment", "no flips or x/y transposition").advanced()
      .option("image-mean", "M", "image normalisation (default: measured by prep)").number().advanced()
      .option("image-stddev", "S", "image normalisation (default: measured by prep)").number(0, {}).advanced()
      .option("log-every", "N", "print and log every N steps", "10").integer(1, {}).unit("steps").advanced()
      .option("checkpoint-every", "N", "save model.checkpoint every N steps", "500")
      .integer(1, {})
      .unit("steps")
      .advanced()
      .option("seed", "N", "random seed (weights, examples, augmentation)", "1").integer(0, {})
      .flag("resume", "continue training the model in MODEL");
  add_device_options(command);
  return command;
}

int run_ffn_train(const cli::Args& args) {
  const fs::path prep_dir = args.get("prep"), folder = args.get("model");
  const bool resume = args.has("resume");
  if (!resume && fs::exists(folder) && !fs::is_empty(folder))
    throw InputError(folder.string() + ": already exists; use --resume to continue training it, or choose a new folder");
  if (resume && !fs::exists(folder / nn::ffn::model_json)) throw InputError(folder.string() + ": nothing to resume (no model.json)");
  if (resume) nn::ffn::check_resumable(folder);  // before the data is read: a refusal costs nothing

  std::ifstream in(prep_dir / "prep.json");
  if (!in) throw InputError((prep_dir / "prep.json").string() + ": missing; make it with uniem ffn prep");
  nlohmann::json prep;
  try {
    prep = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError((prep_dir / "prep.json").string() + ": not valid JSON (" + e.what() + ")");
  }
  if (prep.value("format", "") != prep_format) throw InputError((prep_dir / "prep.json").string() + ": not made by uniem ffn prep");

  nn::ffn::ModelDescription m;
  nn::ffn::TrainOptions o;
  o.batch = args.integer("batch");
  o.steps = args.integer("steps");
  o.optimizer = args.get("optimizer");
  o.learning_rate = args.number("learning-rate");
  o.schedule = args.get("schedule");
  o.clip = args.number("clip");
  o.move_threshold = args.number("move-threshold");
  o.shuffle_moves = !args.has("no-shuffle-moves");
  o.augment = !args.has("no-augment");
  o.log_every = args.integer("log-every");
  o.checkpoint_every = args.integer("checkpoint-every");
  o.seed = static_cast<uint64_t>(args.integer("seed"));
  o.check();
  if (resume) {
    m = nn::ffn::read_model_description(folder);
    const nn::ffn::FfnConfig given = network_from(args);
    for (const char* name : {"preset", "depth", "filters", "fov", "deltas"})
      if (args.has(name) && given.to_json() != m.network.to_json())
        throw UsageError("--" + std::string(name) + " contradicts the model in " + folder.string() + " (" + m.network.describe() +
                         "); leave the network options out when resuming");
    const nn::ffn::TrainOptions saved = nn::ffn::TrainOptions::from_json(m.training);
    if (saved.batch != o.batch) throw UsageError("--batch " + std::to_string(o.batch) + " differs from the model's " + std::to_string(saved.batch));
  } else {
    m.network = network_from(args);
    m.image_mean = args.has("image-mean") ? args.number("image-mean") : prep.value("image_mean", 128.0);
    m.image_stddev = args.has("image-stddev") ? args.number("image-stddev") : prep.value("image_stddev", 33.0);
    if (!(m.image_stddev > 0)) throw UsageError("--image-stddev must be positive");
  }
  m.training = o.to_json();
  m.training["prep"] = fs::absolute(prep_dir).string();

  nn::ffn::TrainingData data;
  try {
    data.margin = prep.at("margin_zyx").get<Zyx>();
    for (const auto& v : prep.at("volumes")) {
      data.images.push_back(read_volume(v.at("images").get<std::string>()));
      data.labels.push_back(read_volume(v.at("labels").get<std::string>()));
      if (data.images.back().shape() != data.labels.back().shape())
        throw InputError(v.at("labels").get<std::string>() + ": shape differs from its images");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError((prep_dir / "prep.json").string() + ": incomplete (" + e.what() + ")");
  }
  const Checkpoint file = load_checkpoint(prep_dir / coordinates_file, "ffn-coordinates");
  if (file.parameters.size() != 1 || file.parameters[0].tensor.rank() != 2 || file.parameters[0].tensor.size(1) != 4 ||
      file.parameters[0].tensor.dtype() != ScalarType::i32)
    throw InputError((prep_dir / coordinates_file).string() + ": not a coordinate list");
  const Tensor& t = file.parameters[0].tensor;
  for (int64_t i = 0; i < t.size(0); ++i) {
    const int32_t* p = t.data<int32_t>() + 4 * i;
    if (p[0] < 0 || p[0] >= static_cast<int32_t>(data.images.size()) || p[1] < 0 || p[2] < 0 || p[3] < 0 ||
        p[1] >= data.images[static_cast<size_t>(p[0])].nz() || p[2] >= data.images[static_cast<size_t>(p[0])].ny() ||
        p[3] >= data.images[static_cast<size_t>(p[0])].nx())
      throw InputError((prep_dir / coordinates_file).string() + ": coordinate " + std::to_string(i) + " lies outside its volume");
    data.coordinates.push_back({p[0], p[1], p[2], p[3]});
  }
  nn::ffn::check_fits(m.network, data);
  if (const std::string w = m.network.field_of_view_warning(); !w.empty()) std::fprintf(stderr, "note: %s\n", w.c_str());
  o.device = choose_device(args);
  std::printf("uniem ffn train: %s, %zu coordinates in %zu volume(s), batch %lld, %s lr %g\n", m.network.describe().c_str(),
              data.coordinates.size(), data.images.size(), static_cast<long long>(o.batch), o.optimizer.c_str(), o.learning_rate);
  std::fflush(stdout);
  const nn::ffn::TrainResult r = nn::ffn::train(m, o, data, folder, resume, [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  });
  std::printf("%lld steps in %.1f s: loss %.4f, F1 %.3f at 0.9 -> %s\n", static_cast<long long>(r.steps), r.seconds, r.loss, r.f1,
              folder.c_str());
  return 0;
}

}  // namespace uniem::apps
