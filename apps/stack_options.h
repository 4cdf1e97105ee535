// The stack options the commands share: how they read (--voxel-size, --rgb, --crop) and how they
// write (--overwrite, the kind of output from its name), the output checked before any work is done.
#pragma once

#include <string>

#include "apps/cli.h"
#include "core/error.h"
#include "io/stack.h"

namespace uniem::apps {

ReadOptions read_options(const cli::Args& args);

// The box of --crop Z,Y,X,DZ,DY,DX (origin and size) cut out of `v`, or `v` itself without the
// option; a box that does not fit throws InputError naming `source`.
Volume apply_crop(const cli::Args& args, Volume v, const std::string& source);

// Throws InputError now if OUT may not be written (it exists and --overwrite was not given).
// `labels`: OUT holds a label volume (an OME-Zarr pyramid keeps ids; an HDF5 dataset is named
// volumes/labels by default).
WriteOptions prepare_output(const cli::Args& args, const std::string& out, bool labels = false);

// The bytes a run in memory would hold for the stack `in`: `copies` of its values and
// `extra_per_voxel` more bytes a voxel (labels, working copies). Above memory_budget() the commands
// that can work in slabs (io/blockwise_*.h) do.
double in_memory_bytes(const StackReader& in, double copies, double extra_per_voxel);

// What a slab run adds to its printed line: "in N slabs of S sections, to stay within 256 MiB".
std::string slab_summary(int64_t slabs, int64_t sections);

// work(), with `source: ` put in front of an InputError's message that does not start with it.
template <class Work>
auto naming_input(const std::string& source, Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const InputError& e) {
    if (std::string(e.what()).rfind(source, 0) == 0) throw;
    throw InputError(source + ": " + e.what());
  }
}

}  // namespace uniem::apps
