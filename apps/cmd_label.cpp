// uniem label: connected components of a mask or a label volume (core/image/label.h).
#include <cstdio>
#include <sstream>

#include "apps/cli.h"
#include "apps/cluster/cluster_run.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/convert.h"
#include "core/image/label.h"
#include "core/image/objects.h"
#include "core/image/statistics.h"
#include "core/memory_budget.h"
#include "io/atomic_output.h"
#include "io/blockwise_label.h"
#include "io/stack.h"

namespace uniem::apps {
namespace {

std::string statistics_csv(const std::vector<ObjectStatistics>& objects, const VoxelSize& size, bool with_intensity) {
  std::ostringstream csv;
  csv.precision(10);
  csv << "id,voxels,volume_nm3,z_min,y_min,x_min,z_max,y_max,x_max,centroid_z,centroid_y,centroid_x,"
         "centroid_z_nm,centroid_y_nm,centroid_x_nm"
      << (with_intensity ? ",mean_intensity" : "") << "\n";
  const double voxel_volume = size.z * size.y * size.x;
  for (const auto& o : objects) {
    csv << o.id << "," << o.voxels << "," << static_cast<double>(o.voxels) * voxel_volume;
    for (auto v : o.min) csv << "," << v;
    for (auto v : o.max) csv << "," << v;
    for (auto v : o.centroid) csv << "," << v;
    csv << "," << o.centroid[0] * size.z << "," << o.centroid[1] * size.y << "," << o.centroid[2] * size.x;
    if (with_intensity) csv << "," << o.mean_intensity;
    csv << "\n";
  }
  return csv.str();
}

}  // namespace

cli::Command label_command() {
  cli::Command command(
      "label", "find connected components",
      "Gives every connected object of IN its own id 1..N, numbered in scan order (z, y, x) like\n"
      "scipy.ndimage.label. A mask (one nonzero value) is labelled as foreground; a label volume\n"
      "(several nonzero values) keeps touching objects of different labels apart. --mode chooses.\n"
      "Connectivity: 6 (faces), 18 (and edges), 26 (and corners) in 3D; 4 or 8 labels each section\n"
      "on its own. OUT gets the smallest bit depth that holds N (a .tif file, or a PNG folder while\n"
      "N <= 65535). --stats writes one CSV row per object: voxels, volume in nm^3, bounding box,\n"
      "centroid (voxels and nm) and, with --intensity, the mean intensity of an image.\n"
      "A volume too large for memory (its voxels and labels beyond --memory) is labelled in slabs\n"
      "of sections, read and written a slab at a time, with exactly the ids of a run in memory\n"
      "(without --stats); IN and OUT may then be any stack, e.g. an OME-Zarr or HDF5 dataset.\n"
      "--cluster local|slurm|kubernetes cuts the work into block tasks that --workers processes do\n"
      "together, on this computer or a cluster (uniem worker, uniem status), with the same ids.",
      "  uniem label mito-mask/ mito-objects.tif --connectivity 6 --stats mito.csv --intensity raw/\n"
      "  uniem label big-mask.zarr objects.zarr --cluster slurm --workers 16 --partition short --wait");
  command.positional("IN", "mask or label volume (folder or TIFF)").input()
      .positional("OUT", "labelled output (folder or .tif)").output()
      .option("connectivity", "N", "6, 18 or 26 (3D), 4 or 8 (each section)", "26").choices({"6", "18", "26", "4", "8"})
      .option("mode", "M", "auto, binary (nonzero is foreground) or labels (label-preserving)", "auto")
      .choices({"auto", "binary", "labels"})
      .advanced()
      .option("stats", "FILE.csv", "write per-object statistics").output()
      .option("intensity", "STACK", "image for the mean intensity column of --stats").input()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("overwrite", "replace OUT and the --stats file if they exist");
  add_cluster_options(command);
  command.rule([](const cli::Args& args) {
    if (args.has("intensity") && !args.has("stats")) throw UsageError("--intensity needs --stats");
    if (args.get("cluster") != "none" && args.has("stats")) throw UsageError("--stats is for a run in one process, not with --cluster");
  });
  return command;
}

int run_label(const cli::Args& args) {
  if (const auto status = run_on_cluster(label_command(), args)) return *status;
  const auto connectivity = connectivity_from(static_cast<int>(args.integer("connectivity")));  // one of the choices
  const std::string mode = args.get("mode");
  const std::string in = args.positional(0), out = args.positional(1);
  WriteOptions write = prepare_output(args, out, true);
  if (args.has("stats")) AtomicOutput::check(args.get("stats"), AtomicOutput::Kind::file, write.overwrite);

  const ReadOptions read = read_options(args);
  {
    // A stack whose voxels, labels and output would not fit the memory budget is labelled in
    // slabs of sections, with the same ids (io/blockwise_label.h).
    const StackReader probe(in, read);
    const double need = in_memory_bytes(probe, 1, 8);
    if (need > static_cast<double>(memory_budget())) {
      if (args.has("stats"))
        throw InputError(in + ": too large to hold in memory (" + format_bytes(need) + ", the limit is " + format_bytes(static_cast<double>(memory_budget())) +
                         "): it is labelled in slabs, without --stats; give more --memory for the statistics");
      const int64_t sections = label_slab_sections(probe.ny(), probe.nx(), dtype_size(probe.dtype()), memory_budget());
      const BlockwiseLabelResult r = naming_input(in, [&] {
        return label_blockwise(in, read, out, write, *connectivity, mode == "labels" ? 1 : mode == "binary" ? 0 : -1, sections);
      });
      std::printf("%lld objects (%s, %d-connectivity; %s) -> %s\n", static_cast<long long>(r.count),
                  r.preserved ? "label-preserving" : "binary", static_cast<int>(*connectivity), slab_summary(r.slabs, sections).c_str(), out.c_str());
      return 0;
    }
  }
  const Volume v = read_volume(in, read);
  bool preserve = mode == "labels";
  if (mode == "auto") preserve = dtype_is_integer(v.dtype()) && !is_mask(v);
  LabelResult result;
  try {
    result = label_components(v, *connectivity, preserve);
  } catch (const InputError& e) {
    throw InputError(in + ": " + e.what());
  }
  Volume labels = shrink_to_fit(result.labels);
  if (write.format == StackFormat::png_folder && labels.dtype() == DType::u32)
    throw InputError(out, std::to_string(result.count) + " objects need 32 bits, more than PNG holds; write a .tif file");
  if (args.has("stats")) {
    Volume image;
    if (args.has("intensity")) image = read_volume(args.get("intensity"), read);
    const auto objects = object_statistics(labels, args.has("intensity") ? &image : nullptr);
    write_file_atomically(args.get("stats"), statistics_csv(objects, labels.voxel_size, args.has("intensity")), write.overwrite);
  }
  write_volume(out, labels, write);
  std::printf("%lld objects (%s, %d-connectivity) -> %s\n", static_cast<long long>(result.count),
              preserve ? "label-preserving" : "binary", static_cast<int>(*connectivity), out.c_str());
  return 0;
}

}  // namespace uniem::apps
