// uniem affinities: the affinities of a label volume (core/image/affinities.h), as the 3-channel
// 8-bit stack uniem agglomerate reads: training targets, and a way to try the agglomeration.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/affinities.h"
#include "io/stack.h"

namespace uniem::apps {

cli::Command affinities_command() {
  cli::Command command(
      "affinities", "make affinities from labels (255 where two neighbours are the same object)",
      "For every voxel of LABELS and its neighbour before it in x, y and z, writes 255 when both have\n"
      "the same nonzero label and 0 otherwise (across a boundary, on label 0, and on the first\n"
      "section, row and column, which have no neighbour before them). OUT has 3 channels, an RGB\n"
      "stack: red = x, green = y, blue = z, the layout uniem agglomerate reads. These are the targets\n"
      "an affinity network learns; agglomerating them gives the labels back, each connected piece of\n"
      "a label as one object.",
      "  uniem affinities ground-truth/ affinities.tif\n"
      "  uniem agglomerate affinities.tif neurons.tif");
  command.positional("LABELS", "label volume (0 = boundary or unlabelled)").input()
      .positional("OUT", "affinities: a .tif file or a folder of RGB PNG files").output()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_affinities(const cli::Args& args) {
  const std::string in = args.positional(0), out = args.positional(1);
  const WriteOptions write = prepare_output(args, out);
  ReadOptions read;
  read.voxel_size = args.voxel_size();
  const Volume labels = read_volume(in, read);
  Volume affinities;
  try {
    affinities = affinities_from_labels(labels);
  } catch (const InputError& e) {
    throw InputError(in + ": " + e.what());
  }
  write_volume(out, affinities, write);
  std::printf("affinities of %lld x %lld x %lld voxels (x, y, z as red, green, blue) -> %s\n",
              static_cast<long long>(labels.nz()), static_cast<long long>(labels.ny()),
              static_cast<long long>(labels.nx()), out.c_str());
  return 0;
}

}  // namespace uniem::apps
