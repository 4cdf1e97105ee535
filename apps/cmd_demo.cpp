// uniem demo: the built-in default job of `make run`. It synthesises an EM-like volume with ground
// truth and shows what uniem does with it; later parts of the workflow add their steps here.
#include <cstdio>
#include <filesystem>

#include "apps/compute_device.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/describe.h"
#include "io/label_meshes.h"
#include "apps/serve_project.h"
#include "io/synth_stacks.h"
#include "core/cancel.h"
#include "core/image/convert.h"
#include "core/image/filters.h"
#include "core/image/metrics.h"
#include "core/image/watershed.h"
#include "core/image/synth.h"
#include "io/atomic_output.h"
#include "nn/tiled_inference.h"
#include "nn/trainer.h"
#include "nn/validation.h"
#include "web/proofreading/project.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {
constexpr const char* marker = "uniem-demo.json";

struct CnnResult {
  nlohmann::json record;
  double jaccard = 0, seconds = 0;
  int64_t steps = 0, sections = 0;
};

// The 2D CNN workflow in small: a U-Net learns the mitochondria of the demo volume (uniem
// train2d), then segments a second synthetic volume it has never seen (uniem infer2d), scored
// against that volume's ground truth (uniem eval --mode semantic).
CnnResult cnn_step(const SynthVolume& s, SynthOptions o, const fs::path& dir, Device device) {
  nn::ModelDescription model;
  model.network.filters = 8;
  model.network.depth = 3;
  model.loss.kind = "logistic";
  nn::TrainOptions train;
  train.steps = 150;
  train.learning_rate = 2e-3;
  train.validate_every = 150;
  train.checkpoint_every = 150;
  train.log_every = 50;
  train.seed = o.seed;
  train.device = device;
  nn::Split split = nn::split_validation(nn::make_sections(s.image, s.mitochondria, "image", "mitochondria", model.target), "auto");
  train.patch = 128;  // or the largest multiple of 4 that fits a small --shape
  for (const auto& section : split.train) train.patch = std::min(train.patch, std::min(section.height, section.width) / 4 * 4);
  model.training = train.to_json();
  const nn::TrainResult trained = nn::train(model, train, split, dir / "model", false, [](const std::string& line) {
    std::printf("  %s\n", line.c_str());
    std::fflush(stdout);
  });

  o.seed += 1000;
  o.nz = std::min<int64_t>(o.nz, 8);
  const SynthVolume unseen = synthesize(o);
  nn::LoadedModel loaded = nn::load_model(dir / "model");
  loaded.network->to(device);
  Volume mask(DType::u8, unseen.image.nz(), unseen.image.ny(), unseen.image.nx());
  const int64_t n = mask.ny() * mask.nx();
  for (int64_t z = 0; z < mask.nz(); ++z) {
    const auto image = nn::image_section(unseen.image, z);
    const auto p = nn::predict_section(*loaded.network, model.loss, image.data(), mask.ny(), mask.nx(), {.tile = 256});
    for (int64_t i = 0; i < n; ++i) mask.data<uint8_t>()[z * n + i] = p[static_cast<size_t>(i)] >= 0.5f ? 255 : 0;
  }
  mask.voxel_size = unseen.image.voxel_size;
  WriteOptions png;
  write_volume(dir / "unseen-image", unseen.image, png);
  write_volume(dir / "unseen-mitochondria", unseen.mitochondria, png);
  write_volume(dir / "predicted-mitochondria", mask, png);
  const SemanticScores scores = semantic_scores(mask, unseen.mitochondria);
  CnnResult r;
  r.jaccard = scores.mean_jaccard;
  r.seconds = trained.seconds;
  r.steps = trained.steps;
  r.sections = mask.nz();
  r.record = {{"network", model.network.describe()},
              {"steps", trained.steps},
              {"training_seconds", trained.seconds},
              {"validation", trained.best_scores},
              {"unseen_volume_seed", o.seed},
              {"unseen_jaccard", scores.mean_jaccard},
              {"unseen_dice", scores.mean_dice}};
  return r;
}
}  // namespace

cli::Command demo_command() {
  cli::Command command(
      "demo", "run the uniem workflow on a synthetic EM volume",
      "Synthesises an EM-like volume with ground truth (see 'uniem synth --help') into OUTPUT, writes\n"
      "it as PNG folders and as multi-page TIFF files, segments the neurons the classic way (smoothing,\n"
      "watershed), scores that against the ground truth, meshes every segment (surfaces in nm with area\n"
      "and volume), trains a small U-Net to find the mitochondria and tests it on a second volume it\n"
      "never saw, and describes what it made. Then it opens the workbench on OUTPUT (uniem workbench)\n"
      "and prints its address: in your browser, look through the stacks it made, follow the U-Net's\n"
      "training curves, proofread the segmentation and run any command on the data; Ctrl+C ends the\n"
      "demo (--no-serve skips this). A previous demo output in the same folder is replaced, with its\n"
      "proofreading and jobs; any other existing folder is left alone.",
      "  uniem demo\n  uniem demo --output /tmp/my-demo --seed 3");
  command.option("output", "DIR", "where to write", "demo-output").output()
      .option("seed", "N", "random seed", "1").integer(0, {})
      .option("shape", "Z,Y,X", "size in voxels", "48,256,256").unit("voxels")
      .option("port", "N", "port of the workbench (another free one when it is taken)", "8080")
      .integer(0, 65535)
      .advanced()
      .flag("no-serve", "end without opening the workbench");
  add_device_options(command);
  return command;
}

int run_demo(const cli::Args& args) {
  const fs::path folder = args.get("output");
  const bool ours = fs::exists(folder / marker);
  AtomicOutput out(folder, AtomicOutput::Kind::folder, ours);

  SynthOptions o;
  const auto shape = args.integers("shape", 3);
  o.nz = shape[0];
  o.ny = shape[1];
  o.nx = shape[2];
  o.seed = static_cast<uint64_t>(args.integer("seed"));
  const Device device = choose_device(args);
  std::printf("uniem demo: synthesising a %lld x %lld x %lld EM-like volume (%s voxels, seed %llu)\n",
              static_cast<long long>(o.nz), static_cast<long long>(o.ny), static_cast<long long>(o.nx),
              o.voxel_size.to_string().c_str(), static_cast<unsigned long long>(o.seed));
  const SynthVolume s = synthesize(o);
  const fs::path png = out.temporary() / "png", tiff = out.temporary() / "tiff";
  fs::create_directory(png);
  fs::create_directory(tiff);
  write_synth(png, o, s, StackFormat::png_folder);
  const auto summary = write_synth(tiff, o, s, StackFormat::multipage_tiff);

  // The classic segmentation: smoothed, inverted image as a boundary map, seeds where it is
  // below Otsu's threshold, watershed; scored against the ground truth.
  const Volume boundary = invert(gaussian(s.image, {0, 1.5, 1.5}));
  const Volume markers = markers_below(boundary, otsu_threshold(boundary), Connectivity::c6);
  const Volume segmentation = shrink_to_fit(watershed(boundary, markers, nullptr, {Connectivity::c6, false}));
  WriteOptions tif;
  tif.format = StackFormat::multipage_tiff;
  write_volume(tiff / "segmentation.tif", segmentation, tif);
  const InstanceScores scores = instance_scores(contingency_table(segmentation, s.neurons, true));
  // Surfaces of every segment, smoothed, in nm, with their measurements (uniem mesh).
  const fs::path meshes = out.temporary() / "meshes";
  fs::create_directory(meshes);
  const MeshSummary mesh = write_label_meshes(segmentation, "segmentation", meshes, MeshJob{});
  nlohmann::json record = summary;
  record["segmentation"] = {{"method", "gaussian 1.5, invert, seeds below Otsu, 6-connected watershed"},
                            {"v_rand", scores.v_rand},
                            {"vi_bits", scores.vi},
                            {"segments", scores.segments}};
  record["meshes"] = {{"objects", mesh.objects}, {"triangles", mesh.triangles}, {"format", "ply"}};
  std::printf("Training a small U-Net on the mitochondria of this volume (uniem train2d):\n");
  const fs::path cnn_dir = out.temporary() / "cnn";
  fs::create_directory(cnn_dir);
  CnnResult cnn;
  try {
    cnn = cnn_step(s, o, cnn_dir, device);
  } catch (const Cancelled&) {
    throw Cancelled();  // the model's folder goes with the rest of the demo: nothing to resume
  }
  record["cnn"] = cnn.record;
  web::create_project(out.temporary() / "proofreading", s.image, &segmentation, "the synthetic image", "the segmentation");
  write_file(out.temporary() / marker, record.dump(2) + "\n");
  out.commit();

  std::printf("\n%lld neurons and %lld mitochondria, written as PNG folders and multi-page TIFFs.\n\n",
              static_cast<long long>(s.neuron_count), static_cast<long long>(s.mitochondria_count));
  for (const char* name : {"image", "neurons"}) {
    const fs::path file = folder / "tiff" / (std::string(name) + ".tif");
    StackInfo info;
    const Volume v = read_volume(file, {}, &info);
    std::printf("uniem info %s\n%s\n", file.c_str(), describe_text(describe_json(file.string(), v, info)).c_str());
  }
  std::printf("Classic segmentation (uniem filter --gaussian 1.5 --invert, then uniem watershed\n"
              "--seeds-below otsu), scored with uniem eval against the ground truth:\n"
              "  %lld segments for %lld neurons, V_rand %.4f (1 is perfect), variation of information %.4f bits\n\n",
              static_cast<long long>(scores.segments), static_cast<long long>(s.neuron_count), scores.v_rand, scores.vi);
  std::printf("Surface meshes of the %lld segments (uniem mesh tiff/segmentation.tif meshes/): %lld triangles,\n"
              "smoothed, in nm, one PLY file per segment (open in MeshLab, Blender or ParaView), with area and volume\n"
              "in meshes/measurements.csv\n\n",
              static_cast<long long>(mesh.objects), static_cast<long long>(mesh.triangles));
  std::printf("2D CNN (uniem train2d, then uniem infer2d on a second synthetic volume it never saw):\n"
              "  %s, %lld steps in %.0f s; the mitochondria of the %lld unseen sections found with Jaccard %.3f (1 is perfect)\n\n",
              cnn.record["network"].get<std::string>().c_str(), static_cast<long long>(cnn.steps), cnn.seconds,
              static_cast<long long>(cnn.sections), cnn.jaccard);
  std::printf("Demo output in %s/:\n", folder.c_str());
  std::printf("  png/image/, png/neurons/, png/membranes/, png/mitochondria/   PNG stacks (0000.png ...)\n");
  std::printf("  tiff/image.tif, tiff/neurons.tif, ...                          multi-page TIFFs (open in Fiji)\n");
  std::printf("  tiff/segmentation.tif                                          the classic segmentation\n");
  std::printf("  meshes/label_N.ply, meshes/measurements.csv                    surface of each segment, its area and volume\n");
  std::printf("  cnn/model/                                                     the trained model (uniem infer2d --model)\n");
  std::printf("  cnn/unseen-image/, cnn/predicted-mitochondria/                 the second volume and what the model found\n");
  std::printf("  proofreading/                                                  the segmentation as a proofreading project\n");
  std::printf("  uniem-demo.json                                                what was made\n");
  if (args.has("no-serve")) return 0;
  std::printf("\nThe workbench on the demo output (uniem workbench %s): its Data page shows the stacks,\n"
              "the model and the meshes; the Training monitor the U-Net's curves and sample pictures;\n"
              "'Proofread' on the project 'proofreading' opens the segmentation in the proofreader.\n",
              folder.c_str());
  ServeOptions serve;
  serve.port = static_cast<int>(args.integer("port"));
  serve.any_port_if_taken = true;
  return serve_workbench(folder, serve, true);
}

}  // namespace uniem::apps
