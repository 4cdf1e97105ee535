// uniem watershed: seeded watershed (core/image/watershed.h), with markers given, taken from the
// low regions of a boundary map, or from the distance transform to split touching objects.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/convert.h"
#include "core/image/distance.h"
#include "core/image/filters.h"
#include "core/image/statistics.h"
#include "core/image/watershed.h"
#include "io/stack.h"

namespace uniem::apps {

int run_watershed(const Arguments& argv) {
  cli::Command command(
      "watershed", "grow regions from markers over a landscape",
      "Floods IN from markers: each voxel joins the marker that reaches it first, rising from low\n"
      "values, so regions meet on the ridges (membranes in a boundary-probability map). Markers come\n"
      "from one of:\n"
      "  --markers STACK   a label volume (0 = to be flooded)\n"
      "  --seeds-below T   the connected regions where IN < T, or T = otsu (Otsu's threshold of IN)\n"
      "  --split           IN is a mask: touching objects are split at their necks, flooding the\n"
      "                    negated distance transform from its local maxima (--min-distance R apart)\n"
      "--mask limits the flood; --lines leaves 0 where two regions meet. Ids of OUT are the markers'.",
      "  uniem filter raw/ boundary.tif --gaussian 1.5 --invert\n"
      "  uniem watershed boundary.tif cells.tif --seeds-below otsu --connectivity 6\n"
      "  uniem watershed nuclei-mask/ nuclei.tif --split --min-distance 5");
  command.positional("IN", "landscape (image or probability), or a mask with --split")
      .positional("OUT", "labels (folder or .tif)")
      .option("markers", "STACK", "marker labels")
      .option("seeds-below", "T", "markers: connected regions of IN below T (a number, or otsu)")
      .flag("split", "split the objects of a mask along its distance transform")
      .option("min-distance", "R", "with --split: markers at least R voxels (x/y) apart", "3")
      .option("mask", "STACK", "flood only where this is nonzero")
      .option("connectivity", "N", "6 or 26 (3D), 4 or 8 (each section)", "6")
      .flag("lines", "keep watershed lines (0) between regions")
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it")
      .flag("overwrite", "replace OUT if it exists");
  const auto args = command.parse(argv);
  if (args.help) return command.print_help();
  const int ways = args.has("markers") + args.has("seeds-below") + args.has("split");
  if (ways != 1) throw UsageError("give exactly one of --markers, --seeds-below and --split");
  const auto connectivity = connectivity_from(static_cast<int>(args.integer("connectivity")));
  if (!connectivity) throw UsageError("--connectivity takes 4, 8, 6, 18 or 26");
  const std::string in = args.positional(0), out = args.positional(1);
  const WriteOptions write = prepare_output(args, out);
  const ReadOptions read = read_options(args);
  Volume landscape = read_volume(in, read);
  Volume mask_volume, markers;
  if (args.has("mask")) mask_volume = read_volume(args.get("mask"), read);
  try {
    if (args.has("markers")) {
      markers = read_volume(args.get("markers"), read);
    } else if (args.has("seeds-below")) {
      const double level = args.get("seeds-below") == "otsu" ? otsu_threshold(landscape) : args.number("seeds-below");
      Volume low(DType::u8, landscape.nz(), landscape.ny(), landscape.nx());
      for (int64_t i = 0; i < low.elements(); ++i) low.data<uint8_t>()[i] = landscape.value(i) < level;
      markers = label_components(low, *connectivity, false).labels;
    } else {
      // Splitting a mask: flood -distance from the distance maxima, inside the mask.
      if (!is_mask(landscape)) throw InputError("--split needs a mask (0 and one other value); threshold it first");
      const bool three_d = !connectivity_is_2d(*connectivity);
      const Volume distance = distance_transform(landscape, landscape.voxel_size, !three_d);
      const double r = args.number("min-distance");
      if (r < 0) throw InputError("--min-distance must not be negative");
      const VoxelSize& vs = landscape.voxel_size;
      markers = local_maxima_markers(distance, {three_d ? r * vs.x / vs.z : 0, r * vs.x / vs.y, r}, 0, *connectivity);
      mask_volume = landscape;
      landscape = distance;
      for (int64_t i = 0; i < landscape.elements(); ++i) landscape.data<float>()[i] = -landscape.data<float>()[i];
    }
    const Volume result = watershed(landscape, markers, mask_volume.empty() ? nullptr : &mask_volume,
                                    {*connectivity, args.has("lines")});
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
