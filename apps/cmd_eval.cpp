// uniem eval: scores of a segmentation against ground truth (core/image/metrics.h).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "apps/cli.h"
#include "apps/commands.h"
#include "core/image/metrics.h"
#include "core/progress.h"
#include "io/stack.h"

namespace uniem::apps {
namespace {

nlohmann::json instance_json(const InstanceScores& s) {
  return {{"mode", "instance"},
          {"voxels_scored", s.voxels},
          {"segments", s.segments},
          {"ground_truth_objects", s.truth_objects},
          {"v_rand", s.v_rand},
          {"v_rand_split", s.rand_split},
          {"v_rand_merge", s.rand_merge},
          {"v_info", s.v_info},
          {"v_info_split", s.info_split},
          {"v_info_merge", s.info_merge},
          {"vi_bits", s.vi},
          {"vi_split_bits", s.vi_split},
          {"vi_merge_bits", s.vi_merge},
          {"adapted_rand_error", s.adapted_rand_error},
          {"adapted_rand_precision", s.adapted_rand_precision},
          {"adapted_rand_recall", s.adapted_rand_recall},
          {"snemi3d_adapted_rand_error", s.snemi3d_adapted_rand_error}};
}

nlohmann::json semantic_json(const SemanticScores& s) {
  nlohmann::json j = {{"mode", "semantic"}, {"binary", s.binary}, {"mean_jaccard", s.mean_jaccard}, {"mean_dice", s.mean_dice}};
  j["classes"] = nlohmann::json::array();
  for (const auto& c : s.classes)
    j["classes"].push_back({{"class", s.binary ? "foreground" : std::to_string(c.value)},
                            {"jaccard", c.jaccard},
                            {"dice", c.dice},
                            {"precision", c.precision},
                            {"recall", c.recall},
                            {"true_positives", c.true_positives},
                            {"false_positives", c.false_positives},
                            {"false_negatives", c.false_negatives}});
  return j;
}

void print_table(const nlohmann::json& j) {
  if (j["mode"] == "instance") {
    std::printf("scored %llu voxels (ground truth > 0): %llu segments, %llu ground-truth objects\n\n",
                j["voxels_scored"].get<unsigned long long>(), j["segments"].get<unsigned long long>(),
                j["ground_truth_objects"].get<unsigned long long>());
    std::printf("%-32s %10s %10s %10s\n", "score", "value", "split", "merge");
    std::printf("%-32s %10.4f %10.4f %10.4f\n", "V_rand (Rand F-score, 1 best)", j["v_rand"].get<double>(),
                j["v_rand_split"].get<double>(), j["v_rand_merge"].get<double>());
    std::printf("%-32s %10.4f %10.4f %10.4f\n", "V_info (1 best)", j["v_info"].get<double>(), j["v_info_split"].get<double>(),
                j["v_info_merge"].get<double>());
    std::printf("%-32s %10.4f %10.4f %10.4f\n", "variation of information (bits)", j["vi_bits"].get<double>(),
                j["vi_split_bits"].get<double>(), j["vi_merge_bits"].get<double>());
    std::printf("%-32s %10.4f\n", "adapted Rand error (skimage)", j["adapted_rand_error"].get<double>());
    std::printf("%-32s %10.4f\n", "adapted Rand error (SNEMI3D)", j["snemi3d_adapted_rand_error"].get<double>());
    return;
  }
  std::printf("%-12s %10s %10s %10s %10s\n", "class", "Jaccard", "Dice", "precision", "recall");
  for (const auto& c : j["classes"])
    std::printf("%-12s %10.4f %10.4f %10.4f %10.4f\n", c["class"].get<std::string>().c_str(), c["jaccard"].get<double>(),
                c["dice"].get<double>(), c["precision"].get<double>(), c["recall"].get<double>());
}

// The instance scores' table, from both stacks read a few sections at a time: two 1024^3 uint32
// volumes take 8 GiB whole, and this holds 64 MiB of each at once. 64-bit labels, whose ids may
// need renumbering across the whole volume first, are read whole.
Contingency streamed_contingency(const std::string& seg_path, const std::string& gt_path) {
  StackReader seg(seg_path), gt(gt_path);
  const auto shape = [](const StackReader& r) {
    return std::to_string(r.nz()) + " x " + std::to_string(r.ny()) + " x " + std::to_string(r.nx());
  };
  try {
    if (seg.nz() != gt.nz() || seg.ny() != gt.ny() || seg.nx() != gt.nx() || seg.channels() != gt.channels())
      throw InputError("the segmentation is " + shape(seg) + " but the ground truth is " + shape(gt) +
                       "; they must match voxel for voxel");
    if (seg.dtype() == DType::u64 || gt.dtype() == DType::u64)
      return contingency_table(read_volume(seg_path), read_volume(gt_path), true);
    ContingencyCounter counter(true);
    const int64_t section_bytes = seg.ny() * seg.nx() * seg.channels() *
                                  static_cast<int64_t>(std::max(dtype_size(seg.dtype()), dtype_size(gt.dtype())));
    const int64_t sections = std::max<int64_t>(1, (int64_t{64} << 20) / std::max<int64_t>(1, section_bytes));
    Progress progress("scoring", seg.nz());
    for (;;) {
      const Volume a = seg.next(sections), b = gt.next(sections);
      if (a.empty()) break;
      counter.add(a, b);
      progress.advance(a.nz());
    }
    return counter.table();
  } catch (const InputError& e) {
    throw InputError(seg_path + " against " + gt_path + ": " + e.what());
  }
}

}  // namespace

cli::Command eval_command() {
  cli::Command command(
      "eval", "score a segmentation against ground truth",
      "Instance mode (neurons, objects): the foreground-restricted Rand F-score V_rand and the\n"
      "information score V_info with their split and merge parts (Arganda-Carreras et al. 2015, as in\n"
      "the UNI-EM paper), the variation of information in bits with split H(S|T) and merge H(T|S)\n"
      "(CREMI), and the adapted Rand error as scikit-image and the SNEMI3D challenge compute it. Voxels\n"
      "where the ground truth is 0 (membrane, unlabelled) are not scored.\n"
      "Semantic mode (masks, classes): Jaccard, Dice, precision and recall per class over all voxels;\n"
      "two binary masks are compared as foreground whatever their values (0/1 against 0/255).\n"
      "Prints JSON, or a table with --format table.",
      "  uniem eval segmentation.tif ../shared/data/snemi3d-crop/label --format table\n"
      "  uniem eval predicted-mito/ mito-truth/ --mode semantic");
  command.positional("SEG", "the segmentation (folder or TIFF)").input()
      .positional("GT", "the ground truth, same shape").input()
      .option("mode", "M", "instance or semantic", "instance").choices({"instance", "semantic"})
      .option("format", "F", "json or table", "json").choices({"json", "table"});
  return command;
}

int run_eval(const cli::Args& args) {
  const std::string mode = args.get("mode"), format = args.get("format");
  const std::string seg_path = args.positional(0), gt_path = args.positional(1);
  nlohmann::json result;
  if (mode == "instance") {
    result = instance_json(instance_scores(streamed_contingency(seg_path, gt_path)));
  } else {
    const Volume seg = read_volume(seg_path), gt = read_volume(gt_path);
    try {
      result = semantic_json(semantic_scores(seg, gt));
    } catch (const InputError& e) {
      throw InputError(seg_path + " against " + gt_path + ": " + e.what());
    }
  }
  if (format == "json") std::printf("%s\n", result.dump(2).c_str());
  else print_table(result);
  nlohmann::json event = {{"event", "metrics"}, {"phase", "eval"}};  // the scores, for a job's record
  event.update(result);
  progress_event(event.dump());
  return 0;
}

}  // namespace uniem::apps
