// The stack options the commands share: how they read (--voxel-size, --rgb) and how they write
// (--overwrite, the kind of output from its name), the output checked before any work is done.
#pragma once

#include <string>

#include "apps/cli.h"
#include "io/stack.h"

namespace uniem::apps {

ReadOptions read_options(const cli::Args& args);

// Throws InputError now if OUT may not be written (it exists and --overwrite was not given).
WriteOptions prepare_output(const cli::Args& args, const std::string& out);

}  // namespace uniem::apps
