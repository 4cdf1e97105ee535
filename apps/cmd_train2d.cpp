// uniem train2d: train a 2D segmentation network (nn/trainer.h) from painted sections.
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/compute_device.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "core/error.h"
#include "nn/trainer.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::vector<double> numbers(const std::string& option, const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    try {
      out.push_back(std::stod(item, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw UsageError("--" + option + " takes numbers separated by commas, not '" + text + "'");
  }
  return out;
}

int64_t default_blocks(const std::string& family) { return family == "densenet" ? 4 : 9; }

// The architecture and target options: from the command line for a new model; for --resume from
// the folder, where an explicitly given option that differs is refused.
nn::ModelDescription describe_model(const cli::Args& args, const fs::path& folder, bool resume) {
  nn::ModelDescription m;
  m.network.family = args.get("net");
  m.network.in_channels = args.integer("channels");
  m.network.out_channels = args.integer("classes");
  m.network.filters = args.integer("filters");
  m.network.depth = args.integer("depth");
  m.network.blocks = args.has("blocks") ? args.integer("blocks") : default_blocks(m.network.family);
  m.network.layers = args.integer("layers");
  m.network.growth = args.integer("growth");
  m.loss.kind = args.get("loss");
  if (args.has("class-weights")) m.loss.class_weights = numbers("class-weights", args.get("class-weights"));
  m.target.classes = m.network.out_channels;
  m.target.kind = m.loss.softmax() ? "classes" : m.network.out_channels > 1 ? "channels" : "binary";
  if (args.has("label-threshold")) m.target.threshold = args.number("label-threshold");
  if (args.has("ignore-label")) m.target.ignore_value = args.integer("ignore-label");
  if (!resume) {
    m.network.validate("options");
    m.loss.validate(m.network.out_channels);
    return m;
  }
  nn::ModelDescription saved = nn::read_model_description(folder);
  const std::pair<const char*, bool> checks[] = {
      {"net", saved.network.family == m.network.family},
      {"channels", saved.network.in_channels == m.network.in_channels},
      {"classes", saved.network.out_channels == m.network.out_channels},
      {"filters", saved.network.filters == m.network.filters},
      {"depth", saved.network.depth == m.network.depth},
      {"blocks", saved.network.blocks == m.network.blocks},
      {"layers", saved.network.layers == m.network.layers},
      {"growth", saved.network.growth == m.network.growth},
      {"loss", saved.loss.kind == m.loss.kind},
      {"class-weights", saved.loss.class_weights == m.loss.class_weights},
      {"label-threshold", saved.target.threshold == m.target.threshold},
      {"ignore-label", saved.target.ignore_value == m.target.ignore_value}};
  for (const auto& [name, same] : checks)
    if (args.has(name) && !same)
      throw InputError(folder / nn::model_json, std::string("--") + name + " " + args.get(name) +
                                                    " contradicts the model being resumed; leave it out to keep the model's");
  return saved;
}

nn::TrainOptions training_options(const cli::Args& args, const nn::ModelDescription& m, bool resume) {
  // A resumed run keeps the folder's options unless they are given again (--steps to train further).
  nn::TrainOptions o = resume ? nn::TrainOptions::from_json(m.training) : nn::TrainOptions{};
  auto given = [&](const char* option) { return !resume || args.has(option); };
  if (given("patch")) o.patch = args.integer("patch");
  if (given("batch")) o.batch = args.integer("batch");
  if (given("steps")) o.steps = args.integer("steps");
  if (given("optimizer")) o.optimizer = args.get("optimizer");
  if (given("learning-rate")) o.learning_rate = args.number("learning-rate");
  if (given("beta1")) o.beta1 = args.number("beta1");
  if (given("beta2")) o.beta2 = args.number("beta2");
  if (given("momentum")) o.momentum = args.number("momentum");
  if (given("weight-decay")) o.weight_decay = args.number("weight-decay");
  if (given("average")) {
    const double saved = o.average;
    o.average = args.number("average");
    if (resume && (saved > 0) != (o.average > 0))
      throw UsageError(std::string("--average cannot be turned ") + (saved > 0 ? "off" : "on") +
                       " when resuming: the last checkpoint was saved " + (saved > 0 ? "with" : "without") + " an average");
  }
  if (given("schedule")) o.schedule = args.get("schedule");
  if (given("no-symmetries")) o.augment.symmetries = !args.has("no-symmetries");
  if (given("elastic")) o.augment.elastic = args.number("elastic");
  if (given("elastic-spacing")) o.augment.elastic_spacing = args.integer("elastic-spacing");
  if (given("contrast")) o.augment.contrast = args.number("contrast");
  if (given("brightness")) o.augment.brightness = args.number("brightness");
  if (given("defects")) o.augment.defects = args.number("defects");
  if (given("missing-sections")) o.augment.missing = args.number("missing-sections");
  if (given("validation")) o.validation = args.get("validation");
  if (given("validate-every")) o.validate_every = args.integer("validate-every");
  if (given("checkpoint-every")) o.checkpoint_every = args.integer("checkpoint-every");
  if (given("log-every")) o.log_every = args.integer("log-every");
  if (given("best-metric")) o.best_metric = args.get("best-metric");
  if (given("threshold")) o.threshold = args.number("threshold");
  if (given("seed")) o.seed = static_cast<uint64_t>(args.integer("seed"));
  // Ranges and names are checked by the schema (train2d_command), those of a resumed model when it
  // was made; what is left spans several options or is not a closed range.
  if (o.patch % 4 != 0 || (m.network.family == "unet" && o.patch % (int64_t{1} << (m.network.depth - 1)) != 0))
    throw UsageError("--patch " + std::to_string(o.patch) + " must be a multiple of " +
                     std::to_string(m.network.family == "unet" ? int64_t{1} << (m.network.depth - 1) : 4) +
                     " for this network (its pooling halves the size that many times)");
  if (!(o.learning_rate > 0)) throw UsageError("--learning-rate must be positive");
  if (!(o.average >= 0 && o.average < 1)) throw UsageError("--average takes a decay in [0, 1): 0.99 averages about the last 100 steps, 0 turns it off");
  if (o.best_metric.starts_with("v_rand") && m.target.kind != "binary")
    throw UsageError("--best-metric " + o.best_metric + " needs a binary target");
  if (o.augment.elastic < 0 || o.augment.contrast < 0 || o.augment.contrast >= 1 || o.augment.brightness < 0)
    throw UsageError("--elastic and --brightness must be >= 0, --contrast in [0, 1)");
  return o;
}

}  // namespace

cli::Command train2d_command() {
  cli::Command command(
      "train2d", "train a 2D network to segment EM sections from painted examples",
      "Learns to turn EM sections into probability maps of what the label images mark (mitochondria,\n"
      "membranes, synapses...): the 2D workflow of UNI-EM. IMAGES and LABELS are stacks of the same\n"
      "number and size of sections (folders of PNG/TIFF or multi-page TIFFs); a label image marks\n"
      "the structure with one value (e.g. 255) on background 0, or classes 0..K-1 with --loss\n"
      "softmax --classes K, or K masks as the channels of a colour image with --classes K.\n"
      "\n"
      "Networks (--net): unet (depth levels), resnet and highway (UNI-EM's encoder, --blocks blocks or\n"
      "units, then decoder), densenet (--blocks dense blocks of --layers layers). Losses (--loss):\n"
      "square (least squares, UNI-EM's default), l1, logistic, sigmoid (multi-label), softmax\n"
      "(classes), dice. Training draws random --patch crops, --batch per step, augmented by flips,\n"
      "rotations, elastic deformation, contrast and brightness (and, if asked, simulated section\n"
      "defects), and uses Adam with UNI-EM's settings (learning rate 2e-4, beta1 0.5).\n"
      "\n"
      "Part of the data is held out (--validation) and scored every --validate-every steps with\n"
      "the Jaccard index, Dice and, for one foreground channel, V_rand of its connected pieces (also\n"
      "after thinning the borders between them, as the ISBI 2012 challenge scores cells). With one\n"
      "section, hold out a side whose structures the rest also shows (--validation 25%:left).\n"
      "--average 0.99 validates and saves a moving average of the weights, steadier than the last\n"
      "weights when the scores swing from one check to the next. MODEL\n"
      "gets model.json (every option), last.checkpoint, best.checkpoint (the best validation score)\n"
      "training-log.jsonl and samples/ (input, output and target side by side at each validation,\n"
      "shown by the workbench's training monitor); uniem infer2d needs only that folder. An\n"
      "interrupted run continues with\n"
      "--resume; the same data, options, seed and thread count give the same model.\n"
      "Speed on a 2-core PC: a U-Net with 32 filters trains about 0.6 crops of 256 x 256 per second.",
      "  uniem train2d --images mito/image --labels mito/label --model mito-model --net resnet --blocks 16 \\\n"
      "                --loss square --steps 2000\n"
      "  uniem train2d --images isbi/image --labels isbi/label --model membranes --validation 5\n"
      "  uniem train2d --model mito-model --resume --steps 4000 --images mito/image --labels mito/label");
  command.option("images", "STACK", "EM sections: folder of PNG/TIFF or a multi-page TIFF").input().required()
      .option("labels", "STACK", "label images, one per section, same size").input().required()
      .option("model", "DIR", "model folder to create (or continue with --resume)").output().required()
      .option("net", "NAME", "unet, resnet, highway or densenet", "unet")
      .choices({"unet", "resnet", "highway", "densenet"})
      .option("channels", "N", "input channels: 1 grey, 3 colour", "1").choices({"1", "3"})
      .option("classes", "K", "output channels: 1 for one structure; K classes (softmax) or K masks", "1")
      .integer(1, 64)
      .option("filters", "F", "base filters (UNI-EM used 64)", "32").integer(1, 1024)
      .option("depth", "N", "unet: levels", "4").integer(1, 8)
      .option("blocks", "N", "resnet: residual blocks (9; UNI-EM's workflow 16), highway: units (9), densenet: dense blocks (4)")
      .integer(0, 256)
      .option("layers", "N", "densenet: layers per dense block", "4").integer(1, 64).advanced()
      .option("growth", "N", "densenet: filters each layer adds", "16").integer(1, 256).advanced()
      .option("loss", "NAME", "square, l1, logistic, sigmoid, softmax or dice", "square")
      .choices({"square", "l1", "logistic", "sigmoid", "softmax", "dice"})
      .option("class-weights", "W0,W1,...", "loss weight per class (background,foreground for one structure)")
      .advanced()
      .option("label-threshold", "V", "label values >= V are foreground (for grey label images)").number().advanced()
      .option("ignore-label", "V", "label value meaning 'not annotated': no loss, no score").integer().advanced()
      .option("patch", "P", "training crop size in pixels", "256").integer(8, 4096).unit("pixels")
      .option("batch", "N", "crops per step", "4").integer(1, 1024)
      .option("steps", "N", "optimizer steps in total", "2000").integer(1, {}).unit("steps")
      .option("optimizer", "NAME", "adam, adamw or sgd", "adam").choices({"adam", "adamw", "sgd"}).advanced()
      .option("learning-rate", "LR", "step size", "2e-4").number(0, {})
      .option("beta1", "B", "Adam's first-moment decay", "0.5").number(0, 1).advanced()
      .option("beta2", "B", "Adam's second-moment decay", "0.999").number(0, 1).advanced()
      .option("momentum", "M", "sgd momentum", "0.9").number(0, 1).advanced()
      .option("weight-decay", "W", "L2 penalty (decoupled for adamw)", "0").number(0, {}).advanced()
      .option("average", "D", "validate and save a moving average of the weights with decay D (0.99: about the last 100 steps); 0 turns it off", "0")
      .number(0, 1)
      .advanced()
      .option("schedule", "NAME", "learning rate: constant, cosine, or step (x0.1 every third of the steps)", "constant")
      .choices({"constant", "cosine", "step"})
      .advanced()
      .flag("no-symmetries", "no flips, rotations or transposes").advanced()
      .option("elastic", "PIXELS", "elastic deformation strength; 0 turns it off", "2")
      .number(0, {})
      .unit("pixels")
      .advanced()
      .option("elastic-spacing", "PIXELS", "elastic deformation grid spacing", "32")
      .integer(1, {})
      .unit("pixels")
      .advanced()
      .option("contrast", "C", "contrast jitter: factor in [1 - C, 1 + C]", "0.1").number(0, 1).advanced()
      .option("brightness", "B", "brightness jitter: offset in [-B, B] (images scaled to 0..1)", "0.1")
      .number(0, {})
      .advanced()
      .option("defects", "P", "probability of a blacked-out region or knife mark in a crop", "0")
      .number(0, 1)
      .advanced()
      .option("missing-sections", "P", "probability of a wholly black crop (target: background)", "0")
      .number(0, 1)
      .advanced()
      .option("validation", "SPEC", "held out: auto, none, N (last N sections), P% (bottom rows of each) or P%:top, P%:left, P%:right", "auto")
      .option("validate-every", "N", "score the held-out data every N steps", "200")
      .integer(1, {})
      .unit("steps")
      .advanced()
      .option("checkpoint-every", "N", "save last.checkpoint every N steps", "200")
      .integer(1, {})
      .unit("steps")
      .advanced()
      .option("log-every", "N", "print and log the loss every N steps", "10").integer(1, {}).unit("steps").advanced()
      .option("best-metric", "NAME", "jaccard, dice, v_rand or v_rand_thinned: which score picks best.checkpoint", "jaccard")
      .choices({"jaccard", "dice", "v_rand", "v_rand_thinned"})
      .advanced()
      .option("threshold", "T", "probability threshold for the validation scores", "0.5").number(0, 1).advanced()
      .option("seed", "N", "random seed (weights, crops, augmentation)", "1").integer(0, {})
      .flag("resume", "continue training the model in MODEL from its last checkpoint")
      .flag("overwrite", "replace MODEL if it holds another model");
  add_device_options(command);
  return command;
}

int run_train2d(const cli::Args& args) {
  const fs::path folder = args.get("model");
  const bool resume = args.has("resume");
  if (resume && !fs::exists(folder / nn::model_json))
    throw InputError(folder, "holds no model to resume (no model.json); leave out --resume to start one");
  if (!resume && fs::exists(folder) && !(fs::is_directory(folder) && fs::is_empty(folder)) && !args.has("overwrite"))
    throw InputError(folder, "exists and is not empty; choose a new folder, --resume the model in it, or --overwrite");

  nn::ModelDescription model = describe_model(args, folder, resume);
  if (resume) nn::check_resumable(folder, model);  // before the data is read: a refusal costs nothing
  nn::TrainOptions options = training_options(args, model, resume);
  model.training = options.to_json();

  const std::string images = args.get("images"), labels = args.get("labels");
  DType image_type = DType::u8;
  std::vector<nn::Section> sections = nn::load_sections(images, labels, model.network.in_channels, model.target, &image_type);
  if (!resume) model.input_dtype = dtype_name(image_type);
  int64_t foreground = 0, counted = 0;
  for (const auto& s : sections)
    for (uint8_t t : s.target)
      if (t != nn::ignored) {
        foreground += t > 0;
        ++counted;
      }
  const nn::Split split = nn::split_validation(std::move(sections), options.validation);
  nn::check_patch_fits(split, options.patch);
  options.device = choose_device(args);
  std::printf("uniem train2d: %s, %lld parameters\n", model.network.describe().c_str(),
              static_cast<long long>(nn::make_network(model.network, options.seed)->parameter_count()));
  std::printf("data: %s; %s; %.1f%% of the annotated pixels are foreground\n", images.c_str(), split.description.c_str(),
              100.0 * static_cast<double>(foreground) / static_cast<double>(std::max<int64_t>(counted, 1)));
  std::printf("training: %lld steps of %lld crops of %lld x %lld, %s, learning rate %g, loss %s, seed %llu\n",
              static_cast<long long>(options.steps), static_cast<long long>(options.batch), static_cast<long long>(options.patch),
              static_cast<long long>(options.patch), options.optimizer.c_str(), options.learning_rate, model.loss.kind.c_str(),
              static_cast<unsigned long long>(options.seed));
  std::fflush(stdout);
  if (!resume && fs::exists(folder) && !fs::is_empty(folder)) fs::remove_all(folder);  // --overwrite, inputs checked
  const nn::TrainResult result = nn::train(model, options, split, folder, resume, [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  });
  std::printf("done: %lld steps in %.0f s; model in %s/", static_cast<long long>(result.steps), result.seconds, folder.c_str());
  if (!result.best_scores.is_null())
    std::printf(" (best validation: Jaccard %.4f%s)", result.best_scores["jaccard"].get<double>(),
                result.best_scores.contains("v_rand") ? (", V_rand " + std::to_string(result.best_scores["v_rand"].get<double>()).substr(0, 6)).c_str() : "");
  std::printf("\nnext: uniem infer2d --model %s --images NEW_SECTIONS --out RESULT\n", folder.c_str());
  return 0;
}

}  // namespace uniem::apps
