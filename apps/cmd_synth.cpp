// uniem synth: a synthetic EM-like volume with exact ground truth (core/image/synth.h).
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "io/synth_stacks.h"
#include "io/atomic_output.h"

namespace uniem::apps {

cli::Command synth_command() {
  cli::Command command(
      "synth", "synthesise an EM-like volume with ground truth",
      "Draws densely packed neurites (tubes running through the sections) with dark membranes and\n"
      "a few dark-walled mitochondria, blurred and noisy like serial-section EM. Writes into OUT:\n"
      "  image         the EM-like image (8-bit)\n"
      "  neurons       neuron instance ids 1..N, 0 on membranes (16-bit)\n"
      "  membranes     membrane mask (0/255)\n"
      "  mitochondria  mitochondria mask (0/255)\n"
      "  synth.json    the parameters and object counts\n"
      "each a PNG folder, or a multi-page TIFF with --format tiff. The same seed gives the same volume.",
      "  uniem synth synthetic/ --shape 64,512,512 --seed 7");
  command.positional("OUT", "output folder (must not exist, or be empty)").output()
      .option("shape", "Z,Y,X", "size in voxels", "48,256,256").unit("voxels")
      .option("voxel-size", "Z,Y,X", "voxel size in nm", "30,6,6").unit("nm")
      .option("seed", "N", "random seed", "1").integer(0, {})
      .option("noise", "SD", "image noise, grey levels (standard deviation)", "12").number(0, {}).unit("grey levels")
      .option("blur", "NM", "in-plane blur (point-spread sigma) in nm", "6").number(0, {}).unit("nm")
      .option("format", "KIND", "png (folders) or tiff (multi-page files)", "png").choices({"png", "tiff", "tif"})
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_synth(const cli::Args& args) {
  SynthOptions o;
  const auto shape = args.integers("shape", 3);
  o.nz = shape[0];
  o.ny = shape[1];
  o.nx = shape[2];
  o.voxel_size = *args.voxel_size();
  o.seed = static_cast<uint64_t>(args.integer("seed"));
  o.noise = args.number("noise");
  o.blur_nm = args.number("blur");
  const StackFormat format = *parse_stack_format(args.get("format"));  // one of the schema's choices
  AtomicOutput out(args.positional(0), AtomicOutput::Kind::folder, args.has("overwrite"));
  const SynthVolume s = synthesize(o);
  write_synth(out.temporary(), o, s, format);
  out.commit();
  std::printf("wrote %s: %lld x %lld x %lld voxels, %lld neurons, %lld mitochondria\n", args.positional(0).c_str(),
              static_cast<long long>(o.nz), static_cast<long long>(o.ny), static_cast<long long>(o.nx),
              static_cast<long long>(s.neuron_count), static_cast<long long>(s.mitochondria_count));
  return 0;
}

}  // namespace uniem::apps
