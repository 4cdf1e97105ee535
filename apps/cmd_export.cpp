// uniem export: a proofreading project's labels, with every acknowledged edit, as a stack.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "io/stack.h"
#include "web/proofreading/project_export.h"
#include "web/proofreading/session.h"

namespace uniem::apps {

cli::Command export_command() {
  cli::Command command(
      "export", "write a project's labels as a stack",
      "Writes the labels of a proofreading project (uniem serve) as they are now, including every\n"
      "acknowledged edit, also while the server runs. OUT ending in .tif is one multi-page TIFF,\n"
      "anything else a folder of PNG files. --bits chooses the type: the default is the smallest\n"
      "that holds the largest id; 8 or 16 are refused when ids do not fit, PNG holds 8 or 16 only.\n"
      "Beside OUT (named as OUT without its extension): .segments.csv/.json (id, name, colour, lock holder,\n"
      "voxels, checked in the review and by whom) and .markers.csv/.json (key, z, y, x, note, author, segment, name, type).",
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
  web::check_export_tables(out, write.overwrite);
  web::SessionOptions options;
  options.read_only = true;
  options.flush_seconds = 0;
  const web::Session session(project, options);
  web::ProjectExport exported;
  try {
    exported = web::read_export(session, bits);
  } catch (const InputError& e) {
    throw InputError(project + ": " + e.what());
  }
  web::write_export(out, exported, write);
  const auto tables = web::export_table_paths(out);
  std::printf("Exported %s (version %lld, %lld segments, %lld markers) to %s as %s, the tables to %s and %s (.json beside).\n",
              project.c_str(), static_cast<long long>(exported.version), static_cast<long long>(exported.segments.size()),
              static_cast<long long>(exported.markers.size()), out.c_str(), dtype_name(exported.labels.dtype()),
              tables[0].string().c_str(), tables[2].string().c_str());
  return 0;
}

}  // namespace uniem::apps
