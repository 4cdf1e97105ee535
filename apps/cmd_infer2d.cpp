// uniem infer2d: apply a trained 2D model (nn/model_folder.h) to a stack, section by section, tile by tile.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "apps/compute_device.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "core/error.h"
#include "core/image/convert.h"
#include "core/image/label.h"
#include "core/image/watershed.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "io/atomic_output.h"
#include "io/blockwise_label.h"
#include "io/stack.h"
#include "nn/model_folder.h"
#include "nn/tiled_inference.h"
#include "nn/validation.h"

namespace fs = std::filesystem;

namespace uniem::apps {

cli::Command infer2d_command() {
  cli::Command command(
      "infer2d", "apply a trained 2D network to EM sections: probability maps, masks, objects",
      "Runs the model in MODEL (made by uniem train2d) on every section of IMAGES, of any size: the\n"
      "section is cut into overlapping tiles whose predictions are blended smoothly, so there are\n"
      "no seams, and mirrored at its borders. OUT (a new or empty folder) gets:\n"
      "  probabilities/        the probability of the structure per pixel (0..255 for --bits 8; one\n"
      "                        folder per channel, probabilities-N/, for several classes or masks)\n"
      "  mask/                 with --threshold T: 255 where the probability is >= T (mask-N/ for\n"
      "                        several masks)\n"
      "  classes/              softmax models: the most probable class of each pixel\n"
      "  labels.tif            with --labels 2d or 3d: the connected objects of the mask, numbered\n"
      "                        (2d: each section on its own, 4-connected; 3d: 6-connected through\n"
      "                        the sections, UNI-EM's mitochondria post-processing); with --grow\n"
      "                        the objects then grow over the background through the valleys of\n"
      "                        1 - probability, so cells tile the section with thin borders\n"
      "  inference.json        the model, options, timing and memory\n"
      "--flips averages the 8 flipped and rotated versions of each tile (8x slower, a little more\n"
      "accurate). The memory for the network is measured on the first tile and printed.\n"
      "IMAGES is read and OUT written one section at a time, so a stack larger than memory (an\n"
      "OME-Zarr, HDF5 or precomputed volume too) needs only a section's worth; --grow alone needs\n"
      "the mask and probabilities whole.",
      "  uniem infer2d --model mito-model --images stack/ --out mito-result --threshold 0.5 --labels 3d\n"
      "  uniem infer2d --model membranes --images isbi/test/image --out isbi-result --bits 16 --flips");
  command.option("model", "DIR", "model folder made by uniem train2d").input().required()
      .option("images", "STACK", "EM sections: folder of PNG/TIFF or a multi-page TIFF").input().required()
      .option("out", "DIR", "output folder (new or empty)").output().required()
      .option("checkpoint", "WHICH", "best (best validation score) or last", "best")
      .choices({"best", "last"})
      .advanced()
      .option("tile", "PIXELS", "tile size (rounded to the network's multiple)", "512")
      .integer(16, {})
      .unit("pixels")
      .advanced()
      .option("overlap", "PIXELS", "overlap of neighbouring tiles", "64").integer(0, {}).unit("pixels").advanced()
      .option("batch", "N", "tiles per forward pass", "1").integer(1, {}).advanced()
      .flag("flips", "average over the 8 symmetries of each tile")
      .option("bits", "N", "probability maps: 8 or 16-bit PNG, or 32 for float TIFF", "8").choices({"8", "16", "32"})
      .option("threshold", "T", "also write mask/: probability >= T").number(0, 1)
      .option("labels", "2d|3d", "also write labels.tif: connected objects of the mask (needs --threshold)")
      .choices({"2d", "3d"})
      .flag("grow", "grow the --labels objects over the background (cells from a membrane model)")
      .flag("overwrite", "replace OUT if it exists");
  add_device_options(command);
  return command;
}

int run_infer2d(const cli::Args& args) {
  const std::string which = args.get("checkpoint");
  const int64_t bits = args.integer("bits");
  const bool threshold_given = args.has("threshold");
  const double threshold = threshold_given ? args.number("threshold") : 0.5;
  if (threshold_given && !(threshold > 0 && threshold < 1)) throw UsageError("--threshold takes a probability between 0 and 1");
  const std::string labels = args.has("labels") ? args.get("labels") : "";
  nn::TileOptions tiles{.tile = args.integer("tile"), .overlap = args.integer("overlap"), .batch = args.integer("batch"),
                        .flips = args.has("flips")};
  const fs::path out_dir = args.get("out");
  AtomicOutput::check(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));

  nn::LoadedModel model = nn::load_model(args.get("model"), which);
  const nn::ModelDescription& d = model.description;
  if (!labels.empty() && (d.loss.softmax() || d.network.out_channels != 1))
    throw UsageError("--labels needs a model with one foreground channel; this one has " +
                     std::to_string(d.network.out_channels) + " outputs");
  if (!labels.empty() && !threshold_given) throw UsageError("--labels needs --threshold (the mask it labels)");
  if (args.has("grow") && labels.empty()) throw UsageError("--grow needs --labels 2d or 3d");
  const std::string images_path = args.get("images");
  // Section by section: the stack is read, predicted and written one section at a time, so that
  // any stack fits in memory (the outputs are the same files as from a volume held whole).
  StackReader images(images_path, nn::image_read_options(d.network.in_channels));
  if (dtype_name(images.dtype()) != d.input_dtype)
    std::fprintf(stderr, "note: the model was trained on %s images, these are %s (both are scaled to 0..1)\n",
                 d.input_dtype.c_str(), dtype_name(images.dtype()));

  const int64_t k = d.network.out_channels, nz = images.nz(), ny = images.ny(), nx = images.nx();
  const nn::TilePlan plan = nn::plan_tiles(ny, nx, model.network->size_multiple(), tiles);
  model.network->to(choose_device(args));  // once the inputs are known to be good
  std::printf("uniem infer2d: %s (%s, step %lld) on %lld sections of %lld x %lld, tiles %lld x %lld with overlap %lld%s\n",
              d.network.describe().c_str(), model.checkpoint.c_str(), static_cast<long long>(model.step),
              static_cast<long long>(nz), static_cast<long long>(nx), static_cast<long long>(ny),
              static_cast<long long>(plan.tile), static_cast<long long>(plan.tile), static_cast<long long>(plan.overlap),
              tiles.flips ? ", 8 symmetries" : "");
  std::fflush(stdout);

  const DType out_type = bits == 8 ? DType::u8 : bits == 16 ? DType::u16 : DType::f32;
  const double scale = bits == 8 ? 255.0 : bits == 16 ? 65535.0 : 1.0;
  const int64_t maps = d.loss.softmax() || k > 1 ? k : 1;
  const int64_t mask_count = threshold_given && !d.loss.softmax() ? k : 0;
  AtomicOutput out(out_dir, AtomicOutput::Kind::folder, args.has("overwrite"));
  Volume probability(out_type, 1, ny, nx), mask(DType::u8, 1, ny, nx), classes(DType::u8, 1, ny, nx);  // one section each
  probability.voxel_size = mask.voxel_size = classes.voxel_size = images.voxel_size();
  WriteOptions write;
  write.format = bits == 32 ? StackFormat::tiff_folder : StackFormat::png_folder;
  std::vector<std::unique_ptr<StackWriter>> probability_out, mask_out;
  for (int64_t c = 0; c < maps; ++c)
    probability_out.push_back(std::make_unique<StackWriter>(
        out.temporary() / (maps == 1 ? "probabilities" : "probabilities-" + std::to_string(c)), write, probability, nz));
  write.format = StackFormat::png_folder;
  for (int64_t c = 0; c < mask_count; ++c)
    mask_out.push_back(std::make_unique<StackWriter>(out.temporary() / (mask_count == 1 ? "mask" : "mask-" + std::to_string(c)), write, mask, nz));
  std::unique_ptr<StackWriter> classes_out;
  if (d.loss.softmax()) classes_out = std::make_unique<StackWriter>(out.temporary() / "classes", write, classes, nz);
  nn::PredictStats stats;
  const auto begin = std::chrono::steady_clock::now();
  {
    Progress progress("infer2d", nz * plan.tiles());
    for (int64_t z = 0; z < nz; ++z) {
      const Volume section = images.next(1);
      const std::vector<float> image = nn::image_section(section, 0);
      nn::PredictStats section_stats;
      const auto p = nn::predict_section(*model.network, d.loss, image.data(), ny, nx, tiles,
                                         z == 0 ? &section_stats : nullptr, [&] { progress.advance(); });
      if (z == 0) {
        stats = section_stats;
        const double canvas = static_cast<double>((k + 1) * plan.padded_height * plan.padded_width) * 4.0;
        std::fprintf(stderr, "memory: %.0f MiB for the network on %lld tile(s) of %lld x %lld (measured), %.0f MiB for the section\n",
                     static_cast<double>(stats.network_bytes) / 1048576.0, static_cast<long long>(tiles.batch),
                     static_cast<long long>(plan.tile), static_cast<long long>(plan.tile), canvas / 1048576.0);
      }
      const int64_t n = ny * nx;
      for (int64_t c = 0; c < maps; ++c) {
        for (int64_t i = 0; i < n; ++i) {
          const double v = p[static_cast<size_t>(c * n + i)];
          if (out_type == DType::f32) probability.data<float>()[i] = static_cast<float>(v);
          else if (out_type == DType::u16) probability.data<uint16_t>()[i] = static_cast<uint16_t>(std::lround(v * scale));
          else probability.data<uint8_t>()[i] = static_cast<uint8_t>(std::lround(v * scale));
        }
        probability_out[static_cast<size_t>(c)]->append(probability);
      }
      for (int64_t c = 0; c < mask_count; ++c) {
        for (int64_t i = 0; i < n; ++i)
          mask.data<uint8_t>()[i] = p[static_cast<size_t>(c * n + i)] >= threshold ? 255 : 0;
        mask_out[static_cast<size_t>(c)]->append(mask);
      }
      if (classes_out) {
        const auto best = nn::predicted_target(d.loss, p, k, n, 0.5);
        std::copy(best.begin(), best.end(), classes.data<uint8_t>());
        classes_out->append(classes);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  for (auto* writers : {&probability_out, &mask_out})
    for (auto& w : *writers) w->commit();
  if (classes_out) classes_out->commit();
  int64_t objects = -1;
  if (!labels.empty()) {
    const Connectivity connectivity = labels == "2d" ? Connectivity::c4 : Connectivity::c6;
    const fs::path mask_path = out.temporary() / "mask", labels_path = out.temporary() / "labels.tif";
    WriteOptions tif;
    tif.format = StackFormat::multipage_tiff;
    if (!args.has("grow")) {  // the mask's objects, labelled from the written mask a slab at a time
      objects = label_blockwise(mask_path, {}, labels_path, tif, connectivity, 0,
                                label_slab_sections(ny, nx, 1, memory_budget())).count;
    } else {  // flood 1 - probability from the objects: the watershed needs the volume whole
      LabelResult r = label_components(read_volume(mask_path), connectivity, false);
      objects = r.count;
      Volume landscape = read_volume(out.temporary() / "probabilities");
      const double top = out_type == DType::f32 ? 1.0 : scale;
      for (int64_t i = 0; i < landscape.elements(); ++i) {
        const double v = top - landscape.value(i);
        if (out_type == DType::f32) landscape.data<float>()[i] = static_cast<float>(v);
        else if (out_type == DType::u16) landscape.data<uint16_t>()[i] = static_cast<uint16_t>(v);
        else landscape.data<uint8_t>()[i] = static_cast<uint8_t>(v);
      }
      r.labels = watershed(landscape, r.labels, nullptr, {connectivity, false});
      Volume l = shrink_to_fit(r.labels);
      l.voxel_size = images.voxel_size();
      write_volume(labels_path, l, tif);
    }
  }
  nlohmann::json record = {{"model", fs::absolute(args.get("model")).string()},
                           {"checkpoint", model.checkpoint},
                           {"step", model.step},
                           {"network", d.network.to_json()},
                           {"images", images_path},
                           {"sections", nz},
                           {"width", nx},
                           {"height", ny},
                           {"tile", plan.tile},
                           {"overlap", plan.overlap},
                           {"flips", tiles.flips},
                           {"bits", bits},
                           {"seconds", seconds},
                           {"megapixels_per_second", static_cast<double>(nz * ny * nx) / 1e6 / seconds},
                           {"network_memory_bytes", stats.network_bytes}};
  if (threshold_given) record["threshold"] = threshold;
  if (objects >= 0) record["objects"] = objects;
  write_file(out.temporary() / "inference.json", record.dump(2) + "\n");
  out.commit();
  std::printf("%lld sections in %.1f s (%.2f megapixels/s) -> %s/probabilities%s%s%s\n", static_cast<long long>(nz), seconds,
              static_cast<double>(nz * ny * nx) / 1e6 / seconds, out_dir.c_str(), maps > 1 ? "-N" : "",
              mask_count > 0 ? (maps > 1 ? ", mask-N/" : ", mask/") : classes_out ? ", classes/" : "",
              objects >= 0 ? (", labels.tif (" + std::to_string(objects) + " objects)").c_str() : "");
  return 0;
}

}  // namespace uniem::apps
