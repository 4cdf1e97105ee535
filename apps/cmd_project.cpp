// uniem project: a proofreading project made from stacks, without serving it (a job of its own,
// so the workbench can make one for any segmentation and open it in its proofreader).
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/serve_project.h"
#include "apps/stack_options.h"

namespace uniem::apps {

cli::Command project_command() {
  cli::Command command(
      "project", "make a proofreading project from an EM stack and a segmentation",
      "Makes a proofreading project in PROJECT from the EM stack IMAGES (8 or 16-bit) and, with\n"
      "--labels, a segmentation or ground truth to correct (an integer label stack of the same shape;\n"
      "without, you paint from scratch). The stacks are read a slab at a time, so volumes larger\n"
      "than memory are imported too. Open it with 'uniem serve --project PROJECT', or in the\n"
      "workbench, where every project of the workspace opens in the proofreader.",
      "  uniem project em/ proofreading --labels segmentation.tif\n  uniem project em/ ground-truth --voxel-size 30,6,6");
  command.positional("IMAGES", "EM stack (folder or TIFF)").input();
  command.positional("PROJECT", "the new project folder").output();
  command.option("labels", "STACK", "segmentation to correct (default: none, all background)").input()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm");
  return command;
}

int run_project(const cli::Args& args) {
  const std::string project = args.positional(1);
  make_project(project, args.positional(0), args.has("labels") ? args.get("labels") : "", read_options(args));
  std::printf("The project is ready: uniem serve --project %s\n", project.c_str());
  return 0;
}

}  // namespace uniem::apps
