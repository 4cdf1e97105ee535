// uniem export: a proofreading project's labels, with every acknowledged edit, as a stack.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "io/stack.h"
#include "web/proofreading/session.h"

namespace uniem::apps {

cli::Command export_command() {
  cli::Command command(
      "export", "write a project's labels as a stack",
      "Writes the labels of a proofreading project (uniem serve) as they are now, including every\n"
      "acknowledged edit, also while the server runs. OUT ending in .tif is one multi-page TIFF,\n"
      "anything else a folder of PNG files. --bits chooses the type: the default is the smallest\n"
      "that holds the largest id; 8 or 16 are refused when ids do not fit, PNG holds 8 or 16 only.",
      "  uniem export my-proofreading corrected-labels.tif\n  uniem export my-proofreading labels-png/ --bits 16");
  command.positional("PROJECT", "the project folder").input()
      .positional("OUT", "output stack (folder or .tif)").output()
      .option("bits", "N", "8, 16 or 32 (default: the smallest that holds the ids)").choices({"8", "16", "32"})
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_export(const cli::Args& args) {
  const std::string project = args.positional(0), out = args.positional(1);
  const int bits = args.has("bits") ? static_cast<int>(args.integer("bits")) : 0;
  WriteOptions write = prepare_output(args, out, true);
  web::SessionOptions options;
  options.read_only = true;
  options.flush_seconds = 0;
  const web::Session session(project, options);
  Volume labels;
  try {
    labels = session.labels(bits);
  } catch (const InputError& e) {
    throw InputError(project + ": " + e.what());
  }
  write_volume(out, labels, write);
  std::printf("Exported %s (version %lld, %lld segments) to %s as %s.\n", project.c_str(),
              static_cast<long long>(session.version()), static_cast<long long>(session.info()["segments"].get<int64_t>()),
              out.c_str(), dtype_name(labels.dtype()));
  return 0;
}

}  // namespace uniem::apps
