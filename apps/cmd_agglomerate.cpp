// uniem agglomerate: neurons from an affinity volume, the watershed of the affinity graph
// (core/image/affinity_watershed.h) and hierarchical agglomeration of its fragments
// (core/image/agglomeration.h), one segmentation per threshold.
#include <chrono>
#include <cstdio>
#include <sstream>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/affinities.h"
#include "core/image/affinity_watershed.h"
#include "core/image/agglomeration.h"
#include "core/image/convert.h"
#include "io/atomic_output.h"
#include "io/stack.h"

namespace uniem::apps {
namespace {

// "0.3,0.5,0.7": numbers in [0, 1], increasing.
std::vector<double> parse_thresholds(const std::string& text) {
  std::vector<double> t;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw UsageError("--thresholds takes numbers separated by commas (0.3,0.5,0.7), not '" + text + "'");
    if (!(v >= 0 && v <= 1)) throw UsageError("--thresholds: " + item + " is outside [0, 1]");
    if (!t.empty() && !(v > t.back())) throw UsageError("--thresholds must be increasing, e.g. 0.3,0.5,0.7");
    t.push_back(v);
  }
  if (t.empty()) throw UsageError("--thresholds needs at least one number");
  return t;
}

// 0.3 -> "0.30", 0.125 -> "0.125": two decimals at least, as many as the threshold has.
std::string threshold_name(double t) {
  char text[32];
  for (int digits = 2; digits < 10; ++digits) {
    std::snprintf(text, sizeof text, "%.*f", digits, t);
    if (std::stod(text) == t) break;
  }
  return text;
}

std::string graph_csv(const RegionGraph& graph) {
  std::ostringstream csv;
  csv.precision(6);
  csv << "fragment_a,fragment_b,voxel_pairs,mean_affinity,median_affinity,voxels_a,voxels_b\n";
  for (const RegionEdge& e : graph.edges)
    csv << e.a << "," << e.b << "," << e.count << "," << graph.mean(e) << "," << percentile_affinity(e.histogram, 50)
        << "," << graph.sizes[e.a] << "," << graph.sizes[e.b] << "\n";
  return csv.str();
}

bool names_a_file(const std::string& out) {
  const StackFormat f = format_for_output(out);
  return f != StackFormat::png_folder && f != StackFormat::tiff_folder;
}

}  // namespace

cli::Command agglomerate_command() {
  cli::Command command(
      "agglomerate", "segment neurons from predicted affinities: watershed fragments, then agglomeration",
      "AFFINITIES holds, for every voxel, how likely it belongs to the same neuron as its neighbour\n"
      "before it in x, y and z (3 channels: an RGB TIFF or PNG stack of 8 or 16 bits, red = x, green = y,\n"
      "blue = z, 255 = certainly the same neuron; such as uniem affinities makes from ground truth).\n"
      "Two steps:\n"
      "  1. fragments: a watershed on the affinities (Zlateski and Seung 2015) cuts the volume into\n"
      "     small pieces that each lie inside one neuron. Affinities >= --high join voxels at once,\n"
      "     those < --low are never followed (a voxel without any affinity >= --low stays 0, e.g. inside\n"
      "     a membrane), and pieces under --size voxels join the neighbour they share an affinity of at\n"
      "     least --size-threshold with. --fragments writes them, --graph the list of touching pieces\n"
      "     with the statistics of their boundary (CSV), for proofreading later.\n"
      "  2. agglomeration: the two touching pieces whose boundary has the highest mean affinity (or,\n"
      "     with --quantile Q, the Q-th percentile of its affinities: 50 = median) are joined, and again,\n"
      "     while that score is at least the threshold. A lower threshold joins more: fewer, larger\n"
      "     objects, and more false merges; a higher one leaves more pieces split.\n"
      "With one threshold (default 0.5) OUT is a stack like any other (folder or .tif); with several,\n"
      "given increasing (0.3,0.5,0.7), OUT is a folder with one multi-page TIFF per threshold:\n"
      "seg-0.30.tif, seg-0.50.tif, seg-0.70.tif, all from one pass. Compare them with uniem eval.",
      "  uniem agglomerate affinities.tif neurons.tif\n"
      "  uniem agglomerate affinities.tif thresholds/ --thresholds 0.3,0.5,0.7 --fragments fragments.tif\n"
      "  uniem agglomerate affinities.tif neurons.tif --quantile 50 --graph region-graph.csv\n"
      "  uniem affinities ground-truth/ affinities.tif   # affinities of known labels, to try it out");
  command.positional("AFFINITIES", "x, y, z affinities: a 3-channel (RGB) stack").input()
      .positional("OUT", "neuron labels (folder or .tif); a folder of seg-T.tif with several thresholds").output()
      .option("thresholds", "T1,T2,...", "agglomerate while the score is at least T, one output each (increasing)", "0.5")
      .option("quantile", "Q", "score a boundary by the Q-th percentile of its affinities (50 = median) instead of the mean")
      .number(0, 100)
      .unit("%")
      .option("fragments", "STACK", "also write the watershed fragments").output()
      .option("graph", "FILE.csv", "also write the region graph: touching fragments, their boundary's affinities").output()
      .option("high", "A", "watershed: affinities at or above A join voxels at once", "0.9999").number(0, 1).advanced()
      .option("low", "A", "watershed: affinities below A are never followed", "0.0001").number(0, 1).advanced()
      .option("size", "N", "watershed: fragments under N voxels join a neighbour ...", "25").integer(0, {}).unit("voxels").advanced()
      .option("size-threshold", "A", "... through an affinity at least A", "0.3").number(0, 1).advanced()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("overwrite", "replace OUT, --fragments and --graph if they exist")
      .rule([](const cli::Args& args) {
        const auto thresholds = parse_thresholds(args.get("thresholds"));
        if (thresholds.size() > 1 && names_a_file(args.positional(1)))
          throw UsageError("with several thresholds OUT is a folder (one seg-T.tif each), not " + args.positional(1));
        if (args.number("low") > args.number("high")) throw UsageError("--low must not exceed --high");
      });
  return command;
}

int run_agglomerate(const cli::Args& args) {
  const std::string in = args.positional(0), out = args.positional(1);
  const std::vector<double> thresholds = parse_thresholds(args.get("thresholds"));
  const bool folder = thresholds.size() > 1;
  const bool overwrite = args.has("overwrite");
  WriteOptions write;
  if (folder) AtomicOutput::check(out, AtomicOutput::Kind::folder, overwrite);
  else write = prepare_output(args, out, true);
  WriteOptions fragments_write;
  if (args.has("fragments")) fragments_write = prepare_output(args, args.get("fragments"), true);
  if (args.has("graph")) AtomicOutput::check(args.get("graph"), AtomicOutput::Kind::file, overwrite);

  ReadOptions read;
  read.voxel_size = args.voxel_size();
  read.color = ColorPolicy::channels;
  StackInfo info;
  const auto start = std::chrono::steady_clock::now();
  const Volume affinities = read_volume(in, read, &info);
  // Under ColorPolicy::channels a grey stack reads as three equal channels: the format says which.
  // A wrong file is refused like a wrong option (exit 2, #33), before anything is written.
  if (info.format.find("RGB") == std::string::npos)
    throw UsageError(in + ": is " + info.format + ", one value per voxel; affinities need 3 channels (x, y, z) as an "
                     "8- or 16-bit RGB stack (float affinities: scale them to 8 bits)");
  AffinityWatershedOptions ws;
  ws.high = args.number("high");
  ws.low = args.number("low");
  ws.size = args.integer("size");
  ws.size_threshold = args.number("size-threshold");
  AgglomerationOptions agg;
  agg.thresholds = thresholds;
  if (args.has("quantile")) agg.percentile = args.number("quantile");
  Fragments fragments;
  RegionGraph graph;
  Agglomeration result;
  try {
    fragments = affinity_watershed(affinities, ws);
    graph = region_graph(fragments.labels, affinities);
    result = agglomerate(graph, agg);
  } catch (const InputError& e) {
    throw InputError(in + ": " + e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%u fragments (%u watershed basins), %zu touching pairs, %.1f s\n", fragments.count, fragments.basins,
              graph.edges.size(), seconds);
  if (args.has("fragments")) {
    write_volume(args.get("fragments"), shrink_to_fit(fragments.labels), fragments_write);
    std::printf("fragments -> %s\n", args.get("fragments").c_str());
  }
  if (args.has("graph")) {
    write_file_atomically(args.get("graph"), graph_csv(graph), overwrite);
    std::printf("region graph -> %s\n", args.get("graph").c_str());
  }
  if (!folder) {
    Volume labels = shrink_to_fit(apply_segments(fragments.labels, result.segment_of[0]));
    if (write.format == StackFormat::png_folder && labels.dtype() == DType::u32)
      throw InputError(out, std::to_string(result.segments[0]) + " objects need 32 bits, more than PNG holds; write a .tif file");
    write_volume(out, labels, write);
    std::printf("threshold %s: %u objects -> %s\n", threshold_name(thresholds[0]).c_str(), result.segments[0], out.c_str());
    return 0;
  }
  AtomicOutput target(out, AtomicOutput::Kind::folder, overwrite);
  WriteOptions each;
  each.format = StackFormat::multipage_tiff;
  each.labels = true;
  for (size_t k = 0; k < thresholds.size(); ++k) {
    const std::string name = "seg-" + threshold_name(thresholds[k]) + ".tif";
    write_volume(target.temporary() / name, shrink_to_fit(apply_segments(fragments.labels, result.segment_of[k])), each);
    std::printf("threshold %s: %u objects -> %s\n", threshold_name(thresholds[k]).c_str(), result.segments[k],
                (std::filesystem::path(out) / name).c_str());
  }
  target.commit();
  return 0;
}

}  // namespace uniem::apps
