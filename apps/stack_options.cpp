#include "apps/stack_options.h"

#include "core/memory_budget.h"

namespace uniem::apps {

ReadOptions read_options(const cli::Args& args) {
  ReadOptions read;
  read.voxel_size = args.voxel_size();
  if (args.has("rgb")) read.color = ColorPolicy::channels;
  return read;
}

Volume apply_crop(const cli::Args& args, Volume v, const std::string& source) {
  if (!args.has("crop")) return v;
  const auto c = args.integers("crop", 6);
  try {
    return crop(v, {c[0], c[1], c[2]}, {c[3], c[4], c[5]});
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
}

WriteOptions prepare_output(const cli::Args& args, const std::string& out, bool labels) {
  WriteOptions write;
  write.labels = labels;
  write.overwrite = args.has("overwrite");
  write.format = format_for_output(out);
  if (args.has("format")) {
    const auto f = parse_stack_format(args.get("format"));
    if (!f) throw UsageError("--format takes png, tiff, tiff-stack, zarr, zarr3, hdf5 or precomputed, not '" + args.get("format") + "'");
    write.format = *f;
  }
  check_output_writable(out, write);
  return write;
}

double in_memory_bytes(const StackReader& in, double copies, double extra_per_voxel) {
  const double value = static_cast<double>(dtype_size(in.dtype()) * static_cast<size_t>(in.channels()));
  return static_cast<double>(in.nz()) * static_cast<double>(in.ny()) * static_cast<double>(in.nx()) * (value * copies + extra_per_voxel);
}

std::string slab_summary(int64_t slabs, int64_t sections) {
  return "in " + std::to_string(slabs) + " slabs of " + std::to_string(sections) + " sections, to stay within " +
         format_bytes(static_cast<double>(memory_budget()));
}

}  // namespace uniem::apps
