// uniem info: what a stack holds, so a user can check a dataset before working on it.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "apps/describe.h"
#include "io/stack.h"

namespace uniem::apps {

cli::Command info_command() {
  cli::Command command("info", "describe an image stack",
                       "Reads the stack and prints its shape (z, y, x), voxel type, voxel size in nm, value range,\n"
                       "percentiles, number of distinct values and a histogram. STACK is a folder of PNG/TIFF files\n"
                       "(sorted by name) or a multi-page TIFF.",
                       "  uniem info ../data/isbi2012/train/image\n  uniem info neurons.tif --json");
  command.positional("STACK", "folder of PNG/TIFF files, or a (multi-page) TIFF file").input()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .flag("rgb", "keep colour images as 3 channels (default: convert to grey)").advanced()
      .flag("json", "print JSON instead of text");
  return command;
}

int run_info(const cli::Args& args) {
  StackInfo info;
  const Volume v = read_volume(args.positional(0), read_options(args), &info);
  const auto description = describe_json(args.positional(0), v, info);
  if (args.has("json")) std::printf("%s\n", description.dump(2).c_str());
  else std::fputs(describe_text(description).c_str(), stdout);
  return 0;
}

}  // namespace uniem::apps
