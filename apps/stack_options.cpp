#include "apps/stack_options.h"

namespace uniem::apps {

ReadOptions read_options(const cli::Args& args) {
  ReadOptions read;
  read.voxel_size = args.voxel_size();
  if (args.has("rgb")) read.color = ColorPolicy::channels;
  return read;
}

WriteOptions prepare_output(const cli::Args& args, const std::string& out) {
  WriteOptions write;
  write.overwrite = args.has("overwrite");
  write.format = format_for_output(out);
  if (args.has("format")) {
    const auto f = parse_stack_format(args.get("format"));
    if (!f) throw UsageError("--format takes png, tiff or tiff-stack, not '" + args.get("format") + "'");
    write.format = *f;
  }
  check_output_writable(out, write);
  return write;
}

}  // namespace uniem::apps
