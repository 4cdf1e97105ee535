// uniem watershed: seeded watershed (core/image/watershed.h), with markers given, taken from the
// low regions of a boundary map, or from the distance transform to split touching objects.
#include <cstdio>

#include "apps/cli.h"
#include "apps/cluster/cluster_run.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "apps/watershed_options.h"
#include "core/image/convert.h"
#include "core/image/distance.h"
#include "core/image/filters.h"
#include "core/image/statistics.h"
#include "core/image/watershed.h"
#include "core/memory_budget.h"
#include "io/blockwise_watershed.h"
#include "io/stack.h"

namespace uniem::apps {

namespace {

// UNI-EM's watershed filters (its plugins' Skimg and Skimg3D with their default parameters): the
// objects of a grey image are where it is at most a level (cell interiors of a membrane map), and
// they are split along their distance transform from maxima at least R pixels apart.
struct Preset {
  const char* name;
  double objects_at_most, min_distance;
  int connectivity;
};
constexpr Preset presets[] = {{"uniem-2d", 8, 10, 4}, {"uniem-3d", 20, 18, 6}};

}  // namespace

cli::Command watershed_command() {
  cli::Command command(
      "watershed", "grow regions from markers over a landscape",
      "Floods IN from markers: each voxel joins the marker that reaches it first, rising from low\n"
      "values, so regions meet on the ridges (membranes in a boundary-probability map). Markers come\n"
      "from one of:\n"
      "  --markers STACK   a label volume (0 = to be flooded)\n"
      "  --seeds-below T   the connected regions where IN < T, or T = otsu (Otsu's threshold of IN)\n"
      "  --split           IN is a mask (or, with --objects-at-most T, an image whose objects are where\n"
      "                    it is <= T): touching objects are split at their necks, flooding the negated\n"
      "                    distance transform from its maxima, either those at least --min-distance R\n"
      "                    pixels apart, or with --h-maxima H those rising H nm above their\n"
      "                    surroundings (one marker per object unless a neck narrows it by H)\n"
      "  --preset NAME     UNI-EM's watershed filters: uniem-2d (each section; objects where IN <= 8,\n"
      "                    --min-distance 10, --connectivity 4) or uniem-3d (IN <= 20, --min-distance\n"
      "                    18, --connectivity 6); the options change them. Unlike UNI-EM, maxima near\n"
      "                    the border still make markers, so objects cut by the border are kept.\n"
      "--mask limits the flood; --lines leaves 0 where two regions meet; --merge-smaller N then merges\n"
      "every region under N voxels into the neighbour it shares the lowest boundary with. Ids of OUT\n"
      "are the markers'.\n"
      "A volume too large for memory (beyond --memory) is flooded in slabs of sections, each with\n"
      "--overlap more sections on each side, and the slabs' regions are joined where they overlap\n"
      "(--seeds-below or --markers; without --merge-smaller). This is close to a run in memory, not\n"
      "identical: bench/RESULTS.md gives the agreement (V_rand 0.999 or more). --cluster local|slurm|\n"
      "kubernetes floods the same slabs as block tasks of --workers processes (uniem worker, status).",
      "  uniem filter raw/ boundary.tif --gaussian 1.5 --invert\n"
      "  uniem watershed boundary.tif cells.tif --seeds-below otsu --connectivity 6 --merge-smaller 200\n"
      "  uniem watershed nuclei-mask/ nuclei.tif --split --min-distance 5\n"
      "  uniem watershed membranes/ cells.tif --preset uniem-2d");
  command.positional("IN", "landscape (image or probability), or a mask with --split").input()
      .positional("OUT", "labels (folder or .tif)").output()
      .option("markers", "STACK", "marker labels").input()
      .option("seeds-below", "T", "markers: connected regions of IN below T (a number, or otsu)")
      .flag("split", "split the objects of a mask along its distance transform")
      .option("preset", "NAME", "uniem-2d or uniem-3d: UNI-EM's watershed filters").choices({"uniem-2d", "uniem-3d"})
      .option("objects-at-most", "T", "with --split: IN is an image, its objects are where IN <= T").number().advanced()
      .option("min-distance", "R", "with --split: markers at least R voxels (x/y) apart", "3")
      .number(0, {})
      .unit("voxels")
      .option("h-maxima", "H", "with --split: markers at the maxima rising H nm above their surroundings")
      .number(0, {})
      .unit("nm")
      .advanced()
      .option("mask", "STACK", "flood only where this is nonzero").input()
      .option("connectivity", "N", "6 or 26 (3D), 4 or 8 (each section)", "6").choices({"6", "18", "26", "4", "8"})
      .flag("lines", "keep watershed lines (0) between regions").advanced()
      .option("merge-smaller", "N", "merge regions under N voxels into their lowest-boundary neighbour")
      .integer(0, {})
      .unit("voxels")
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("overwrite", "replace OUT if it exists")
      .option("overlap", "N", "sections shared by neighbouring slabs of a volume too large for memory", "8")
      .integer(0, {})
      .advanced()
      .exactly_one_of({"markers", "seeds-below", "split", "preset"});
  add_cluster_options(command);
  command
      .rule([](const cli::Args& args) {
        if (!args.has("split") && !args.has("preset") && (args.has("objects-at-most") || args.has("h-maxima")))
          throw UsageError("--objects-at-most and --h-maxima go with --split or --preset");
        if (args.has("h-maxima") && args.has("min-distance"))
          throw UsageError("give --min-distance or --h-maxima, not both: they are two ways to place the markers");
      });
  return command;
}

BlockwiseWatershedOptions blockwise_watershed_options(const cli::Args& args, const std::string& in, const std::string& why,
                                                      const std::string& remedy) {
  if (!args.has("seeds-below") && !args.has("markers"))
    throw InputError(in + why + "--split and --preset need the whole volume; " + remedy + ", or use --seeds-below or --markers");
  if (args.has("merge-smaller")) throw InputError(in + why + "--merge-smaller needs the whole volume; " + remedy + " or leave it out");
  BlockwiseWatershedOptions o;
  if (args.has("seeds-below")) {
    if (args.get("seeds-below") == "otsu") o.seeds_below_otsu = true;
    else o.seeds_below = args.number("seeds-below");
  }
  if (args.has("markers")) o.markers = args.get("markers");
  if (args.has("mask")) o.mask = args.get("mask");
  o.connectivity = *connectivity_from(static_cast<int>(args.integer("connectivity")));
  o.lines = args.has("lines"), o.overlap = args.integer("overlap");
  return o;
}

int run_watershed(const cli::Args& args) {
  if (const auto status = run_on_cluster(watershed_command(), args)) return *status;
  const Preset* preset = nullptr;
  for (const Preset& p : presets)
    if (args.has("preset") && args.get("preset") == p.name) preset = &p;
  const int neighbours = args.has("connectivity") || !preset ? static_cast<int>(args.integer("connectivity")) : preset->connectivity;
  const auto connectivity = connectivity_from(neighbours);  // one of the choices, or the preset's
  const std::string in = args.positional(0), out = args.positional(1);
  WriteOptions write = prepare_output(args, out, true);
  const ReadOptions read = read_options(args);
  {
    // A landscape whose voxels, seeds and labels would not fit the memory budget is flooded in
    // slabs that overlap, stitched where they do (io/blockwise_watershed.h).
    const StackReader probe(in, read);
    const double need = in_memory_bytes(probe, 1, 24);
    if (need > static_cast<double>(memory_budget())) {
      const std::string too_large = ": too large to hold in memory (" + format_bytes(need) + ", the limit is " +
                                    format_bytes(static_cast<double>(memory_budget())) + "); ";
      BlockwiseWatershedOptions o = blockwise_watershed_options(args, in, too_large, "give more --memory");
      const double per_section = need / static_cast<double>(probe.nz()) * 1.5;
      o.slab_sections = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(memory_budget()) / per_section) - 2 * o.overlap);
      const BlockwiseWatershedResult r = naming_input(in, [&] { return watershed_blockwise(in, read, out, write, o); });
      std::printf("%lld regions -> %s (%s, each flooded with %lld more sections on each side)\n", static_cast<long long>(r.regions),
                  out.c_str(), slab_summary(r.slabs, o.slab_sections).c_str(), static_cast<long long>(o.overlap));
      return 0;
    }
  }
  Volume landscape = read_volume(in, read);
  Volume mask_volume, markers;
  if (args.has("mask")) mask_volume = read_volume(args.get("mask"), read);
  try {
    if (landscape.channels() != 1)
      throw InputError("this is a colour image; the watershed needs one channel (convert it to grey first)");
    if (args.has("markers")) {
      markers = read_volume(args.get("markers"), read);
    } else if (args.has("seeds-below")) {
      const double level = args.get("seeds-below") == "otsu" ? otsu_threshold(landscape) : args.number("seeds-below");
      markers = markers_below(landscape, level, *connectivity);
    } else {
      // Splitting objects: flood -distance from the distance maxima, inside the objects.
      const bool by_level = args.has("objects-at-most") || preset;
      if (!by_level && !is_mask(landscape))
        throw InputError("--split needs a mask (0 and one other value); threshold it first, or say which values are objects with --objects-at-most");
      const double level = args.has("objects-at-most") ? args.number("objects-at-most") : preset ? preset->objects_at_most : 0;
      Volume objects(DType::u8, landscape.nz(), landscape.ny(), landscape.nx());
      objects.voxel_size = landscape.voxel_size;
      for (int64_t i = 0; i < objects.elements(); ++i) {
        const double v = landscape.value(i);
        objects.data<uint8_t>()[i] = by_level ? v <= level : v != 0;
      }
      const bool three_d = !connectivity_is_2d(*connectivity);
      const Volume distance = distance_transform(objects, objects.voxel_size, !three_d);
      if (args.has("h-maxima")) {
        const double h = args.number("h-maxima");
        if (!(h > 0)) throw InputError("--h-maxima must be a positive distance in nm");
        markers = h_maxima_markers(distance, h, *connectivity);
      } else {
        const double r = args.has("min-distance") || !preset ? args.number("min-distance") : preset->min_distance;
        const VoxelSize& vs = objects.voxel_size;
        markers = local_maxima_markers(distance, {three_d ? r * vs.x / vs.z : 0, r * vs.x / vs.y, r}, 0, *connectivity);
      }
      if (!mask_volume.empty()) {  // flood where both say so
        if (mask_volume.shape() != objects.shape()) throw InputError("the mask and IN must have the same shape");
        for (int64_t i = 0; i < objects.elements(); ++i)
          if (mask_volume.value(i) == 0) objects.data<uint8_t>()[i] = 0;
      }
      mask_volume = std::move(objects);
      landscape = distance;
      for (int64_t i = 0; i < landscape.elements(); ++i) landscape.data<float>()[i] = -landscape.data<float>()[i];
    }
    Volume result = watershed(landscape, markers, mask_volume.empty() ? nullptr : &mask_volume, {*connectivity, args.has("lines")});
    if (args.has("merge-smaller"))
      result = merge_small_regions(result, landscape, args.integer("merge-smaller"), *connectivity);
    const Volume labels = shrink_to_fit(result);
    write_volume(out, labels, write);
    const auto s = compute_statistics(labels);  // 8/16-bit unless there are > 65535 regions: a histogram
    std::printf("%lld regions -> %s\n", static_cast<long long>(s.distinct - (s.zeros > 0 ? 1 : 0)), out.c_str());
  } catch (const UsageError&) {
    throw;
  } catch (const InputError& e) {
    throw InputError(in + ": " + e.what());
  }
  return 0;
}

}  // namespace uniem::apps
