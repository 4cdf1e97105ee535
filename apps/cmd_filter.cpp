// uniem filter: several filters applied to a stack in one run, in the order given
// (core/image/filters.h for what each does and which type it returns).
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/cli.h"
#include "apps/cluster/cluster_run.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/filter_steps.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "io/blockwise_filter.h"
#include "io/stack.h"

namespace uniem::apps {
namespace {

// The same steps as on the command line, checked against the declaration of `command`.
std::vector<FilterStep> steps_from_json(const std::string& path, const cli::Command& command) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": no such pipeline file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_array()) throw InputError(path + ": a pipeline is a list of steps, e.g. [{\"gaussian\": 1.0}, {\"threshold\": \"otsu\"}]");
  std::vector<FilterStep> steps;
  for (const auto& item : j) {
    if (!item.is_object() || item.size() != 1) throw InputError(path + ": each step is one {\"name\": value} object");
    for (const auto& entry : item.items()) {  // exactly one
      const std::string name = entry.key();
      const nlohmann::json& value = entry.value();
      const cli::Spec* spec = command.find(name);
      if (!spec || !spec->step) throw InputError(path + ": unknown step '" + name + "'");
      steps.push_back({name, value.is_string() ? value.get<std::string>() : value.is_boolean() ? "" : value.dump()});
    }
  }
  return steps;
}

}  // namespace

cli::Command filter_command() {
  cli::Command command(
      "filter", "apply filters to a stack, in order",
      "Runs the steps in the order given, on each section (2D, the default) or on the volume (--3d).\n"
      "Sizes R and sigmas S are in voxels of the x/y plane, or in nm with a suffix (30nm); in 3D the z\n"
      "extent follows the voxel size, so neighbourhoods are round in nm. Borders are mirrored.\n"
      "Each step below ends with the type it gives, in parentheses.\n"
      "A pipeline can also come from a JSON file: [{\"gaussian\": 1.0}, {\"threshold\": \"otsu\"}].\n"
      "Integer results are rounded, never wrapped; masks and float results need a TIFF output unless\n"
      "they are 8-bit.\n"
      "--cluster local|slurm|kubernetes cuts the work into block tasks of sections, each with the\n"
      "margin its steps reach, that --workers processes do together (uniem worker, uniem status).",
      "  uniem filter raw/ membranes.tif --gaussian 1 --threshold otsu --invert --remove-small 50\n"
      "  uniem filter raw/ smooth/ --median 2 --3d --voxel-size 30,6,6");
  command.positional("IN", "image stack (folder or TIFF)").input()
      .positional("OUT", "output (folder or .tif)").output()
      .option("pipeline", "FILE.json", "read the steps from a JSON file").input()
      .flag("3d", "filter the volume in 3D instead of each section")
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("overwrite", "replace OUT if it exists");
  add_cluster_options(command);
  command.step("gaussian", "S", "Gaussian smoothing, truncated at 4 sigma (same type)")
      .step("median", "R", "median of the (2R+1)-wide box (same type)")
      .step("mean", "R", "mean of the (2R+1)-wide box (same type)")
      .step("min", "R", "minimum of the (2R+1)-wide box: grey erosion (same type)")
      .step("max", "R", "maximum of the (2R+1)-wide box: grey dilation (same type)")
      .step("invert", "", "8/16-bit: maximum - value; float: min + max - value (same type)")
      .step("bilateral", "S,R", "edge-preserving smoothing: spatial sigma S, grey-level sigma R (same type)")
      .step("clahe", "B,N,S",
            "adaptive histogram equalisation as ImageJ: block size B, N histogram bins, maximum slope S "
            "(SNEMI3D: 127,256,1.5); 8-bit, each section (uint8)")
      .step("normalise", "L,H", "map percentiles L..H (e.g. 1,99) to 0..1, clipped (float32)")
      .step("sobel", "", "gradient magnitude (float32)")
      .step("canny", "L,H[,S[,l1]]",
            "Canny edges: gradient above H, or above L and connected to such a pixel; S smooths first (default 0, "
            "as cv2.Canny); l1 = |gx|+|gy| (cv2.Canny's default) instead of the Euclidean norm; each section "
            "(mask 0/255)")
      .step("threshold", "T", "value > T, or T = otsu (mask 0/255)")
      .step("dilate", "R", "binary dilation with a ball (mask 0/255)")
      .step("erode", "R", "binary erosion with a ball (mask 0/255)")
      .step("open", "R", "binary opening with a ball (mask 0/255)")
      .step("close", "R", "binary closing with a ball (mask 0/255)")
      .step("fill-holes", "", "fill background not connected to the border (mask 0/255)")
      .step("remove-small", "N", "remove 4-connected (2D) or 6-connected (3D) objects under N voxels (mask 0/255)")
      .integer(0, {})
      .unit("voxels")
      .step("distance", "", "exact Euclidean distance to the background, in nm (float32)");
  command.rule([](const cli::Args& args) {
    for (const auto& [name, value] : args.steps()) parse_filter_step({name, value}, args.has("3d"));
    if (args.has("pipeline") && !args.steps().empty())
      throw UsageError("give the steps on the command line or with --pipeline, not both");
    if (!args.has("pipeline") && args.steps().empty()) throw UsageError("no filter steps given (for example --gaussian 1.0)");
  });
  return command;
}

int run_filter(const cli::Args& args) {
  const cli::Command command = filter_command();
  if (const auto status = run_on_cluster(command, args)) return *status;
  std::vector<FilterStep> steps;
  for (const auto& [name, value] : args.steps()) steps.push_back({name, value});
  if (args.has("pipeline")) {
    steps = steps_from_json(args.get("pipeline"), command);
    for (const auto& s : steps) command.validate(*command.find(s.name), s.value);
    if (steps.empty()) throw InputError(args.get("pipeline") + ": the pipeline has no steps");
  }
  const bool three_d = args.has("3d");
  std::vector<ParsedFilterStep> parsed;
  for (const auto& s : steps) parsed.push_back(parse_filter_step(s, three_d));
  const std::string in = args.positional(0), out = args.positional(1);
  const WriteOptions write = prepare_output(args, out);
  const ReadOptions read = read_options(args);
  {
    // A stack whose voxels and working copies (float32) would not fit the memory budget is
    // filtered in slabs of sections, each with the margin its steps reach (io/blockwise_filter.h).
    const StackReader probe(in, read);
    const double need = in_memory_bytes(probe, 1, 12);
    if (need > static_cast<double>(memory_budget())) {
      const int64_t margin = filter_z_margin(parsed, probe.voxel_size(), three_d, probe.dtype(), nullptr);
      const double per_section = need / static_cast<double>(probe.nz()) * 2;
      const int64_t sections = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(memory_budget()) / per_section) - 2 * std::max<int64_t>(0, margin));
      const BlockwiseFilterResult r = naming_input(in, [&] { return filter_blockwise(in, read, out, write, parsed, three_d, sections); });
      std::printf("%zu step%s -> %s (%s; %s, each with %lld more on each side)\n", steps.size(), steps.size() == 1 ? "" : "s", out.c_str(),
                  dtype_name(r.dtype), slab_summary(r.slabs, sections).c_str(), static_cast<long long>(r.margin));
      return 0;
    }
  }
  Volume v = read_volume(in, read);
  Progress progress("filtering", static_cast<int64_t>(steps.size()));
  for (const auto& s : parsed) {
    try {
      v = apply_filter_step(s, v, three_d);
    } catch (const InputError& e) {
      throw InputError(in + ": --" + s.name + ": " + e.what());
    }
    progress.advance();
  }
  write_volume(out, v, write);
  std::printf("%zu step%s -> %s (%s)\n", steps.size(), steps.size() == 1 ? "" : "s", out.c_str(), dtype_name(v.dtype()));
  return 0;
}

}  // namespace uniem::apps
