// The stack options the commands share: how they read (--voxel-size, --rgb, --crop) and how they
// write (--overwrite, the kind of output from its name), the output checked before any work is done.
#pragma once

#include <string>

#include "apps/cli.h"
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

}  // namespace uniem::apps
